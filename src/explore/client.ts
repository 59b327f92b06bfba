/**
 * The explore page's script: plain JavaScript (no eval, no new Function, no network unless the
 * page is served by `--serve`), inlined and allowed by its hash. It reads two JSON blocks: the
 * `--format json` document ("analysis") and the page model ("model": section bytes, RAM maps).
 * Kept as a string: the browser runs it, not node.
 */
export const EXPLORE_JS = String.raw`
(function () {
  'use strict';
  var A = JSON.parse(document.getElementById('analysis').textContent);
  var M = JSON.parse(document.getElementById('model').textContent);
  var $ = function (id) { return document.getElementById(id); };
  var el = function (tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  var hex = function (n) { return '0x' + n.toString(16); };
  var h2 = function (b) { return (b < 16 ? '0' : '') + b.toString(16); };

  function b64(s) {
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  // ---- the field index: every field of every section, with its path and place ----
  var fields = []; // {fid, sec, path, name, type, off, size, count, value, hexv, depth, parent, leaf}
  var sections = A.sections;
  var bytesOf = {}; // section index -> {off, bytes}
  M.sections.forEach(function (s) { bytesOf[s.index] = { off: s.bodyOffset, bytes: b64(s.bytes), cut: s.cut }; });

  function label(s) { return s.idstr + '#' + s.instanceId; }

  function walk(st, sec, prefix, depth, parent) {
    (st.fields || []).forEach(function (f) {
      var name = f.name + (f.index !== undefined ? '[' + f.index + ']' : '');
      var rec = {
        fid: fields.length, sec: sec, path: prefix + name, name: name, type: f.type,
        off: f.offset, size: f.size, count: f.count, value: f.value, hexv: f.hex,
        depth: depth, parent: parent, leaf: !(f.fields), kids: [], sub: false
      };
      fields.push(rec);
      if (parent) parent.kids.push(rec);
      if (f.fields) walk(f, sec, prefix + name + '.', depth + 1, rec);
      if (f.decoded) walk(f.decoded, sec, prefix + name + '.', depth + 1, rec);
    });
    (st.subsections || []).forEach(function (sub) {
      var rec = {
        fid: fields.length, sec: sec, path: prefix + sub.name, name: sub.name, type: 'subsection v' + sub.version,
        off: sub.offset, size: 0, depth: depth, parent: parent, leaf: false, kids: [], sub: true
      };
      fields.push(rec);
      if (parent) parent.kids.push(rec);
      walk(sub, sec, prefix + sub.name + '/', depth + 1, rec);
    });
  }
  var roots = {}; // section index -> top-level records
  sections.forEach(function (s, i) {
    if (!s.state || !s.state.fields) return;
    var start = fields.length;
    walk(s.state, i, label(s) + '/', 0, null);
    roots[i] = fields.slice(start).filter(function (f) { return f.parent === null; });
  });

  // ---- value display, folded where long ----
  function intText(v) {
    if (typeof v === 'boolean') return String(v);
    var b = BigInt(v);
    return b < 0n ? '-0x' + (-b).toString(16) : '0x' + b.toString(16);
  }
  function runs(values) {
    var out = [];
    for (var i = 0; i < values.length;) {
      var t = intText(values[i]);
      var j = i + 1;
      while (j < values.length && intText(values[j]) === t) j++;
      out.push(j - i > 2 ? t + ' \u00d7' + (j - i) : j - i === 2 ? t + ', ' + t : t);
      i = j;
    }
    return out;
  }
  function valueText(f, full) {
    var v = f.value;
    if (f.count !== undefined) {
      if (f.size / f.count === 1 && typeof v[0] === 'number') {
        var zero = v.every(function (x) { return x === 0; });
        if (zero) return f.count + ' zero bytes';
        if (!full && v.length > 24) return v.slice(0, 16).map(h2).join(' ') + ' \u2026 (' + v.length + ' bytes)';
        return v.map(h2).join(' ');
      }
      var r = runs(v);
      if (!full && r.length > 8) return r.slice(0, 8).join(', ') + ', \u2026 (' + r.length + ' runs)';
      return r.join(', ');
    }
    if (typeof v === 'string' && /^([0-9a-f]{2} )*[0-9a-f]{2}$/.test(v)) {
      if (/^(00 )*00$/.test(v) && v.length > 12) return ((v.length + 1) / 3) + ' zero bytes';
      if (!full && v.length > 72) return v.slice(0, 47) + ' \u2026 (' + ((v.length + 1) / 3) + ' bytes)';
      return v;
    }
    if (f.hexv !== undefined) return f.hexv;
    if (typeof v === 'number') return intText(v);
    if (v === null) return 'NULL';
    if (v === undefined) return '';
    return String(v);
  }

  // ---- section list ----
  var current = -1;
  var rowsBySec = {};
  var secRows = [];
  function buildSectionList() {
    var tb = $('sections').querySelector('tbody');
    sections.forEach(function (s, i) {
      var tr = el('tr');
      tr.dataset.index = String(i);
      tr.tabIndex = -1;
      var name = s.type === 'command' ? s.command : s.type === 'trailing' ? 'trailing bytes' : label(s);
      var how = s.type === 'device' ? s.decodedBy : s.type === 'ram' ? 'RAM' : s.type;
      [hex(s.offset), s.sectionId !== undefined ? String(s.sectionId) : '', name,
       s.size !== undefined ? String(s.size) : s.length !== undefined ? String(s.length) : '',
       s.version !== undefined ? 'v' + s.version : '', how,
       s.footer === undefined ? '' : s.footer === null ? 'none' : hex(s.footer)].forEach(function (t, k) {
        var td = el('td', k === 2 ? 'name' : k === 0 || k === 6 ? 'mono' : '', t);
        if (k === 6 && s.footer === null && s.type !== 'command') td.className += ' warn';
        tr.appendChild(td);
      });
      tr.addEventListener('click', function () { selectSection(i); });
      tb.appendChild(tr);
      secRows.push(tr);
    });
  }

  function selectSection(i, keepField) {
    if (i < 0 || i >= sections.length) return;
    if (current >= 0) secRows[current].classList.remove('sel');
    current = i;
    secRows[i].classList.add('sel');
    secRows[i].scrollIntoView({ block: 'nearest' });
    var s = sections[i];
    $('tree-title').textContent = s.type === 'device' ? label(s) + (s.vmsd && s.vmsd !== s.idstr ? ' (' + s.vmsd + ')' : '') + ', ' + s.size + ' bytes by ' + s.decodedBy : s.type === 'ram' ? 'RAM ' + s.kind + ': ' + s.size + ' bytes' : (s.command || s.type);
    renderTree(i);
    renderHex(i);
    renderNested(s);
    if (!keepField) selectField(null);
  }

  // ---- field tree ----
  var selected = null;
  function renderTree(i) {
    var box = $('tree');
    box.textContent = '';
    rowsBySec = {};
    var s = sections[i];
    if (s.type === 'ram') { renderRam(box); return; }
    if (!roots[i]) {
      box.appendChild(el('p', 'muted', s.type === 'device' ? (s.state ? 'decoded by the catalog without field places' : 'not decoded: raw bytes only (see the hex view)') : 'no fields'));
      if (s.state && !s.state.fields) box.appendChild(el('pre', '', JSON.stringify(s.state, null, 1).slice(0, 20000)));
      return;
    }
    var frag = document.createDocumentFragment();
    roots[i].forEach(function (f) { frag.appendChild(row(f)); });
    box.appendChild(frag);
  }
  function row(f) {
    var wrap = el('div', 'node');
    var r = el('div', 'f' + (f.leaf ? '' : ' group') + (f.sub ? ' sub' : ''));
    r.tabIndex = -1;
    r.dataset.fid = String(f.fid);
    r.dataset.off = String(f.off);
    r.dataset.size = String(f.size);
    r.dataset.path = f.path;
    r.setAttribute('role', 'treeitem');
    if (!f.leaf) r.appendChild(el('span', 'tw', '\u25be'));
    r.appendChild(el('span', 'n', f.name));
    r.appendChild(el('span', 't', f.type + (f.count !== undefined ? '[' + f.count + ']' : '')));
    if (f.leaf) {
      var v = el('span', 'v', valueText(f, false));
      if (valueText(f, true) !== v.textContent) { v.classList.add('folded'); v.title = 'click to unfold'; }
      r.appendChild(v);
    }
    r.appendChild(el('span', 'o', '@' + hex(f.off) + (f.size ? ' +' + f.size : '')));
    r.addEventListener('click', function (e) {
      var t = e.target;
      if (t.classList.contains('tw')) { toggle(wrap); return; }
      if (t.classList.contains('folded')) { t.textContent = valueText(f, true); t.classList.remove('folded'); }
      selectField(f);
    });
    wrap.appendChild(r);
    rowsBySec[f.fid] = r;
    if (!f.leaf) {
      var kids = el('div', 'kids');
      f.kids.forEach(function (k) { kids.appendChild(row(k)); });
      wrap.appendChild(kids);
    }
    return wrap;
  }
  function toggle(wrap, open) {
    var closed = open === undefined ? !wrap.classList.contains('closed') : !open;
    wrap.classList.toggle('closed', closed);
    var tw = wrap.firstChild.querySelector('.tw');
    if (tw) tw.textContent = closed ? '\u25b8' : '\u25be';
  }

  function selectField(f) {
    if (selected && rowsBySec[selected.fid]) rowsBySec[selected.fid].classList.remove('sel');
    selected = f;
    highlight(f);
    if (!f) { $('status').textContent = 'Click a field or a byte. Keys: \u2191\u2193 fields, \u2190\u2192 fold, [ ] sections, / search.'; return; }
    var r = rowsBySec[f.fid];
    if (r) {
      var p = r.parentNode.parentNode;
      while (p && p.classList && p.classList.contains('kids')) { toggle(p.parentNode, true); p = p.parentNode.parentNode; }
      r.classList.add('sel');
      r.scrollIntoView({ block: 'nearest' });
      if (document.activeElement !== $('search')) r.focus({ preventScroll: true });
    }
    $('status').textContent = f.path + '  ' + f.type + '  @' + hex(f.off) + (f.size ? ', ' + f.size + ' bytes' : '') + (f.leaf ? '  = ' + valueText(f, false) : '');
  }

  // ---- hex view ----
  var hexBase = 0, hexBytes = null, hexFirstRow = 0, hexRows = 0;
  var ROWS = 1024;
  function renderHex(i, around) {
    var b = bytesOf[i];
    var box = $('hex');
    box.textContent = '';
    if (!b) { hexBytes = null; box.appendChild(el('p', 'muted', sections[i].type === 'ram' ? 'Select a page in the RAM map.' : 'No bytes for this record.')); return; }
    showBytes(b.off, b.bytes, around, b.cut);
  }
  function showBytes(base, bytes, around, cut) {
    var box = $('hex');
    box.textContent = '';
    hexBase = base; hexBytes = bytes;
    var total = Math.ceil(bytes.length / 16);
    var want = around === undefined ? 0 : Math.floor((around - base) / 16);
    hexFirstRow = Math.max(0, Math.min(want - ROWS / 4, total - ROWS));
    if (hexFirstRow < 0) hexFirstRow = 0;
    hexRows = Math.min(total - hexFirstRow, ROWS);
    var frag = document.createDocumentFragment();
    if (hexFirstRow > 0) frag.appendChild(el('div', 'more muted', '\u2026 ' + hexFirstRow * 16 + ' bytes before'));
    for (var r = hexFirstRow; r < hexFirstRow + hexRows; r++) {
      var line = el('div', 'hr');
      line.appendChild(el('span', 'ha', (base + r * 16).toString(16).padStart(8, '0')));
      var asc = '';
      for (var k = 0; k < 16; k++) {
        var idx = r * 16 + k;
        if (idx >= bytes.length) break;
        var sp = el('span', 'b', h2(bytes[idx]));
        sp.dataset.o = String(base + idx);
        line.appendChild(sp);
        var c = bytes[idx];
        asc += c >= 32 && c < 127 ? String.fromCharCode(c) : '.';
      }
      line.appendChild(el('span', 'asc', asc));
      frag.appendChild(line);
    }
    var rest = bytes.length - (hexFirstRow + hexRows) * 16;
    if (rest > 0) frag.appendChild(el('div', 'more muted', '\u2026 ' + rest + ' bytes after'));
    if (cut) frag.appendChild(el('div', 'more muted', cut));
    box.appendChild(frag);
  }
  function byteSpan(o) {
    var idx = o - hexBase;
    if (!hexBytes || idx < 0 || idx >= hexBytes.length) return null;
    var r = Math.floor(idx / 16) - hexFirstRow;
    if (r < 0 || r >= hexRows) return null;
    var rows = $('hex').querySelectorAll('.hr');
    return rows[r] ? rows[r].children[1 + (idx % 16)] : null;
  }
  function highlight(f) {
    $('hex').querySelectorAll('.b.hl').forEach(function (e) { e.classList.remove('hl'); });
    if (!f || !f.size || current < 0 || !bytesOf[current]) return;
    var first = byteSpan(f.off);
    if (!first) { renderHex(current, f.off); first = byteSpan(f.off); }
    for (var o = f.off; o < f.off + f.size; o++) {
      var sp = byteSpan(o);
      if (sp) sp.classList.add('hl');
    }
    if (first) first.scrollIntoView({ block: 'nearest' });
  }
  $('hex').addEventListener('click', function (e) {
    var t = e.target;
    if (!t.classList || !t.classList.contains('b') || current < 0) return;
    var o = Number(t.dataset.o);
    var best = null;
    fields.forEach(function (f) {
      if (f.sec !== current || !f.leaf || !f.size) return;
      if (o >= f.off && o < f.off + f.size && (!best || f.size <= best.size)) best = f;
    });
    if (best) selectField(best);
    else $('status').textContent = 'byte @' + hex(o) + ': not part of a decoded field';
  });

  // ---- nested state ----
  function renderNested(s) {
    var box = $('nested');
    box.textContent = '';
    $('nested-panel').hidden = !s.nested;
    if (!s.nested) return;
    var n = s.nested;
    box.appendChild(el('p', '', 'format ' + n.format + ', flags [' + (n.flags || []).join(', ') + ']'));
    // A page's field selects its bytes inside the raw page field (data.vmx[0].vmcs12...).
    var pageField = function (name) {
      for (var i = 0; i < fields.length; i++) if (fields[i].sec === current && fields[i].name === name) return fields[i];
      return null;
    };
    var table = function (title, obj, rawName, layout) {
      if (!obj) return;
      var page = rawName ? pageField(rawName) : null;
      var keys = Object.keys(obj);
      var nz = keys.filter(function (k) { var v = obj[k]; return !(v === 0 || v === '0x0' || (Array.isArray(v) && v.every(function (x) { return x === 0 || x === '0x0'; })) || (typeof v === 'string' && /^0+$/.test(v))); });
      box.appendChild(el('h3', '', title + ' (' + nz.length + ' non-zero of ' + keys.length + ')'));
      var t = el('table', 'grid');
      t.dataset.page = title;
      nz.forEach(function (k) {
        var tr = el('tr');
        tr.dataset.name = k;
        tr.appendChild(el('td', 'mono', k));
        tr.appendChild(el('td', 'mono', Array.isArray(obj[k]) ? obj[k].join(', ') : typeof obj[k] === 'number' ? hex(obj[k]) : String(obj[k])));
        var place = page && layout ? layout[k] : null;
        if (place) {
          tr.className = 'pick';
          tr.addEventListener('click', function () {
            var f = { fid: -1, sec: current, path: page.path + ' > ' + k, name: k, type: title + ' field', off: page.off + place[0], size: place[1], leaf: true, value: obj[k] };
            selectField(null);
            highlight(f);
            box.querySelectorAll('tr.sel').forEach(function (x) { x.classList.remove('sel'); });
            tr.classList.add('sel');
            $('status').textContent = f.path + '  @' + hex(f.off) + ', ' + f.size + ' bytes (little-endian)  = ' + (typeof obj[k] === 'number' ? hex(obj[k]) : String(obj[k]));
          });
        }
        t.appendChild(tr);
      });
      box.appendChild(t);
    };
    var L = M.pageLayouts || {};
    table('header', n.header);
    table('vmcs12', n.vmcs12, 'data.vmx[0].vmcs12', L.vmcs12);
    table('shadow vmcs12', n.shadowVmcs12, 'data.vmx[0].shadow_vmcs12', L.vmcs12);
    table('vmcb12', n.vmcb12, 'data.svm[0].vmcb12', L.vmcb12);
    if (n.problem) box.appendChild(el('p', 'warn', 'inconsistent: ' + n.problem.message));
  }

  // ---- RAM map ----
  var COLOURS = [[255, 255, 255], [216, 222, 228], [9, 105, 218], [191, 135, 0], [130, 80, 223]];
  var KINDS = ['not sent', 'zero', 'data', 'compressed', 'xbzrle'];
  function renderRam(box) {
    box.appendChild(el('p', 'legend', ''));
    var lg = box.lastChild;
    KINDS.forEach(function (k, i) { var s = el('span', 'sw k' + i, k); lg.appendChild(s); });
    if (!M.ram.length) box.appendChild(el('p', 'muted', 'No RAM blocks.'));
    M.ram.forEach(function (blk, bi) {
      box.appendChild(el('h3', '', blk.name + ': ' + hex(blk.length) + ' bytes, ' + blk.pages + ' pages' + (blk.pagesPerCell > 1 ? ' (a cell is ' + blk.pagesPerCell + ' pages)' : '')));
      var cells = b64(blk.cells);
      // 128 cells a row at 4 px, or 256 at 2 px for big blocks: the map fits the pane's width.
      var big = cells.length > 32768;
      var W = Math.min(big ? 256 : 128, Math.max(1, cells.length));
      var H = Math.ceil(cells.length / W);
      var SCALE = big ? 2 : 4;
      var cv = el('canvas', 'ram');
      cv.width = W; cv.height = H;
      cv.style.width = (W * SCALE) + 'px';
      cv.style.height = (H * SCALE) + 'px';
      cv.dataset.block = String(bi);
      var ctx = cv.getContext('2d');
      var img = ctx.createImageData(W, H);
      for (var c = 0; c < cells.length; c++) {
        var col = COLOURS[cells[c]] || COLOURS[0];
        img.data[c * 4] = col[0]; img.data[c * 4 + 1] = col[1]; img.data[c * 4 + 2] = col[2]; img.data[c * 4 + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
      cv.addEventListener('click', function (e) {
        var rect = cv.getBoundingClientRect();
        var x = Math.floor((e.clientX - rect.left) / SCALE), y = Math.floor((e.clientY - rect.top) / SCALE);
        var cell = y * W + x;
        if (cell >= cells.length) return;
        showPage(bi, blk, cell * blk.pagesPerCell, KINDS[cells[cell]]);
      });
      box.appendChild(cv);
    });
  }
  function showPage(bi, blk, page, kind) {
    var addr = page * blk.pageSize;
    $('status').textContent = blk.name + ' page ' + page + ' (offset ' + hex(addr) + '): ' + kind;
    var box = $('hex');
    if (!M.serve) {
      box.textContent = '';
      box.appendChild(el('p', 'muted', blk.name + ' page ' + page + ' @' + hex(addr) + ': ' + kind + '. Page contents are not in the page: run vmstate explore --serve 127.0.0.1:PORT to fetch them.'));
      return;
    }
    fetch('ram/' + bi + '/' + page).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(t); });
      return r.arrayBuffer();
    }).then(function (buf) { showBytes(addr, new Uint8Array(buf)); }, function (err) {
      box.textContent = '';
      box.appendChild(el('p', 'warn', String(err.message || err)));
    });
  }

  // ---- search by field path ----
  var results = [];
  var search = $('search');
  search.addEventListener('input', function () {
    var q = search.value.trim().toLowerCase();
    var box = $('results');
    box.textContent = '';
    results = [];
    if (!q) { box.hidden = true; return; }
    for (var i = 0; i < fields.length && results.length < 100; i++)
      if (fields[i].path.toLowerCase().indexOf(q) >= 0) results.push(fields[i]);
    results.forEach(function (f, k) {
      var d = el('div', 'res' + (k === 0 ? ' act' : ''), f.path);
      d.addEventListener('mousedown', function (e) { e.preventDefault(); go(f); });
      box.appendChild(d);
    });
    if (!results.length) box.appendChild(el('div', 'muted', 'no field path contains \u201c' + search.value + '\u201d'));
    box.hidden = false;
  });
  search.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && results.length) { go(results[0]); e.preventDefault(); }
    if (e.key === 'Escape') { search.value = ''; $('results').hidden = true; search.blur(); }
  });
  search.addEventListener('blur', function () { setTimeout(function () { $('results').hidden = true; }, 100); });
  function go(f) {
    $('results').hidden = true;
    if (current !== f.sec) selectSection(f.sec, true);
    selectField(f);
    var r = rowsBySec[f.fid];
    if (r) r.focus();
  }

  // ---- keyboard ----
  function visibleRows() {
    return Array.prototype.filter.call($('tree').querySelectorAll('.f'), function (r) { return r.offsetParent !== null; });
  }
  document.addEventListener('keydown', function (e) {
    if (e.target === search) return;
    if (e.key === '/') { search.focus(); e.preventDefault(); return; }
    if (e.key === '[' || e.key === 'PageUp') { selectSection(current - 1); e.preventDefault(); return; }
    if (e.key === ']' || e.key === 'PageDown') { selectSection(current + 1); e.preventDefault(); return; }
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      var rows = visibleRows();
      if (!rows.length) return;
      var at = selected && rowsBySec[selected.fid] ? rows.indexOf(rowsBySec[selected.fid]) : -1;
      var next = e.key === 'ArrowDown' ? Math.min(rows.length - 1, at + 1) : Math.max(0, at - 1);
      selectField(fields[Number(rows[next].dataset.fid)]);
      e.preventDefault();
      return;
    }
    if ((e.key === 'ArrowLeft' || e.key === 'ArrowRight') && selected && !selected.leaf) {
      var r = rowsBySec[selected.fid];
      if (r) toggle(r.parentNode, e.key === 'ArrowRight');
      e.preventDefault();
    }
  });

  buildSectionList();
  var first = sections.findIndex(function (s) { return s.type === 'device'; });
  selectSection(first >= 0 ? first : 0);
  document.body.dataset.ready = 'true';
})();
`;
