// The listing page's upload form: an HTML fragment, its stylesheet text and the browser script
// the fragment loads. No inline script or style, so the page works under a strict CSP.
//
// Entry points:
//   uploadFragment(scriptUrl): string   HTML to place in the listing (when --upload is on)
//   UPLOAD_SCRIPT: string               serve at `scriptUrl` as text/javascript
//   UPLOAD_CSS: string                  rules for the fragment, for the listing's stylesheet
// The script PUTs each file to the current folder's URL + its relative path (percent-encoded per
// segment), one at a time, with a progress bar per file, then reloads the listing and shows a
// result line ("3 files uploaded, 1 renamed to x (1).txt, 1 failed: …"). Names only ever reach
// the page through textContent.

const escapeAttr = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The upload form; `scriptUrl` is where the server serves UPLOAD_SCRIPT. */
export function uploadFragment(scriptUrl: string): string {
  return `<section id="sh-upload" class="sh-upload" aria-label="Upload">
<p class="sh-drop">Drop files or folders here, or choose
<label><input type="file" name="files" multiple> files</label>
<label><input type="file" name="folder" webkitdirectory> a folder</label></p>
<ol class="sh-progress"></ol>
<output class="sh-result" aria-live="polite"></output>
</section>
<script src="${escapeAttr(scriptUrl)}" defer></script>
`;
}

export const UPLOAD_CSS = `.sh-upload{border:2px dashed #888;border-radius:8px;padding:.5em 1em;margin:1em 0}
.sh-upload.sh-over{border-color:#2a7;background:rgba(34,170,119,.08)}
.sh-upload label{margin-left:.5em}
.sh-progress{list-style:none;padding:0;margin:0}
.sh-progress li{display:flex;gap:.5em;align-items:center}
.sh-progress progress{width:10em}
.sh-result{display:block;font-weight:bold}
`;

// Plain ES2017 for any phone browser; kept as text so the server serves it without a build step.
export const UPLOAD_SCRIPT = `'use strict';
(function () {
  var zone = document.getElementById('sh-upload');
  if (!zone) return;
  var list = zone.querySelector('.sh-progress');
  var result = zone.querySelector('.sh-result');
  var KEY = 'serve-here-upload-result';
  var saved = sessionStorage.getItem(KEY);
  if (saved) { result.textContent = saved; sessionStorage.removeItem(KEY); }
  var folderUrl = location.pathname.endsWith('/') ? location.pathname : location.pathname + '/';
  var busy = false;

  function encodePath(rel) {
    return rel.split('/').filter(function (s) { return s !== ''; }).map(encodeURIComponent).join('/');
  }

  function putFile(file, rel) {
    var li = document.createElement('li');
    var label = document.createElement('span');
    label.textContent = rel;
    var bar = document.createElement('progress');
    bar.max = 1; bar.value = 0;
    li.appendChild(bar); li.appendChild(label);
    list.appendChild(li);
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open('PUT', folderUrl + encodePath(rel));
      xhr.upload.onprogress = function (e) { if (e.lengthComputable && e.total > 0) bar.value = e.loaded / e.total; };
      xhr.onload = function () {
        if (xhr.status === 201) {
          bar.value = 1;
          var loc = xhr.getResponseHeader('Location') || '';
          var finalName = decodeURIComponent(loc.split('/').pop() || '');
          var wanted = rel.split('/').pop();
          resolve({ ok: true, renamedTo: finalName && finalName !== wanted ? finalName : null });
        } else {
          resolve({ ok: false, name: rel, reason: (xhr.responseText || String(xhr.status)).trim() });
        }
      };
      xhr.onerror = function () { resolve({ ok: false, name: rel, reason: 'network error' }); };
      xhr.send(file);
    });
  }

  function summary(results) {
    var ok = results.filter(function (r) { return r.ok; });
    var renamed = ok.filter(function (r) { return r.renamedTo; });
    var failed = results.filter(function (r) { return !r.ok; });
    var parts = [ok.length + (ok.length === 1 ? ' file' : ' files') + ' uploaded'];
    if (renamed.length) parts.push(renamed.length + ' renamed to ' + renamed.map(function (r) { return r.renamedTo; }).join(', '));
    if (failed.length) parts.push(failed.length + ' failed: ' + failed.map(function (r) { return r.name + ' (' + r.reason + ')'; }).join(', '));
    return parts.join(', ');
  }

  async function run(items) {
    if (busy || items.length === 0) return;
    busy = true;
    result.textContent = '';
    var results = [];
    for (var i = 0; i < items.length; i++) results.push(await putFile(items[i].file, items[i].rel));
    var line = summary(results);
    result.textContent = line;
    busy = false;
    if (results.some(function (r) { return r.ok; })) {
      sessionStorage.setItem(KEY, line);
      location.reload();
    }
  }

  function fromInput(input) {
    return Array.prototype.map.call(input.files, function (f) { return { file: f, rel: f.webkitRelativePath || f.name }; });
  }

  function readAll(reader) {
    return new Promise(function (resolve, reject) {
      var all = [];
      (function next() {
        reader.readEntries(function (batch) {
          if (batch.length === 0) return resolve(all);
          all = all.concat(batch); next();
        }, reject);
      })();
    });
  }

  async function walkEntry(entry, prefix, out) {
    if (entry.isFile) {
      var file = await new Promise(function (resolve, reject) { entry.file(resolve, reject); });
      out.push({ file: file, rel: prefix + entry.name });
    } else if (entry.isDirectory) {
      var children = await readAll(entry.createReader());
      for (var i = 0; i < children.length; i++) await walkEntry(children[i], prefix + entry.name + '/', out);
    }
  }

  async function fromDrop(dt) {
    var entries = [];
    if (dt.items) for (var i = 0; i < dt.items.length; i++) {
      var e = dt.items[i].webkitGetAsEntry && dt.items[i].webkitGetAsEntry();
      if (e) entries.push(e);
    }
    if (entries.length === 0) return Array.prototype.map.call(dt.files, function (f) { return { file: f, rel: f.name }; });
    var out = [];
    for (var j = 0; j < entries.length; j++) await walkEntry(entries[j], '', out);
    return out;
  }

  zone.querySelectorAll('input[type=file]').forEach(function (input) {
    input.addEventListener('change', function () { run(fromInput(input)); input.value = ''; });
  });
  zone.addEventListener('dragover', function (e) { e.preventDefault(); zone.classList.add('sh-over'); });
  zone.addEventListener('dragleave', function () { zone.classList.remove('sh-over'); });
  zone.addEventListener('drop', function (e) {
    e.preventDefault();
    zone.classList.remove('sh-over');
    fromDrop(e.dataTransfer).then(run, function (err) { result.textContent = 'Could not read the dropped items: ' + err; });
  });
})();
`;
