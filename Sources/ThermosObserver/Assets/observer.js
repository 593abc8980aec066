// The observer's pages: live task lists and the log viewer (pailer). No inline script: the
// Content-Security-Policy allows scripts from /assets only; pages say what to do with data-*.
var observer = (function () {
  function load(section) {
    fetch(section.dataset.url).then(function (r) { return r.text(); }).then(function (html) {
      section.innerHTML = html;
      section.querySelectorAll('a.page').forEach(function (a) {
        a.addEventListener('click', function (e) { e.preventDefault(); section.dataset.url = a.dataset.url; load(section); });
      });
    }).catch(function () {});
  }
  function liveContainers() {
    document.querySelectorAll('section.tasks').forEach(function (section) {
      load(section);
      setInterval(function () { load(section); }, Number(section.dataset.refresh) || 10000);
    });
  }
  // Reference §4.4: page 32 KiB backwards, tail every second, keep at most 50,000 characters.
  function pailer(pre, indicator) {
    var pageSize = 8 * 4096, truncate = 50000, start = 0, end = 0, busy = false, text = '';
    var search = document.getElementById('log-search'), matches = document.getElementById('log-matches');
    var wrap = document.getElementById('log-wrap'), follow = document.getElementById('log-follow');
    var current = -1;
    function get(offset, length) {
      var url = pre.dataset.url + '?offset=' + offset + (length === undefined ? '' : '&length=' + length);
      return fetch(url).then(function (r) { return r.json(); });
    }
    function decode(data) { var t = document.createElement('textarea'); t.innerHTML = data; return t.value; }
    function render(keepScroll) {
      var query = search ? search.value : '';
      var atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      if (!query) {
        pre.textContent = text;
        if (matches) matches.textContent = '';
      } else {
        pre.textContent = '';
        var lower = text.toLowerCase(), q = query.toLowerCase(), from = 0, count = 0, at;
        while ((at = lower.indexOf(q, from)) >= 0) {
          pre.appendChild(document.createTextNode(text.slice(from, at)));
          var mark = document.createElement('mark');
          mark.textContent = text.slice(at, at + q.length);
          pre.appendChild(mark);
          from = at + q.length; count++;
        }
        pre.appendChild(document.createTextNode(text.slice(from)));
        if (matches) matches.textContent = count + ' match' + (count === 1 ? '' : 'es');
      }
      if (!keepScroll && atBottom && (!follow || follow.checked)) pre.scrollTop = pre.scrollHeight;
    }
    function append(more) {
      text += more;
      if (text.length > truncate) { text = text.slice(-truncate); start = end - truncate; }
      render(false);
    }
    function tail() {
      get(end, truncate).then(function (chunk) {
        if (chunk.length > 0) {
          var more = decode(chunk.data);
          if (text === '' && end > 0) { var cut = more.indexOf('\n'); if (cut >= 0) more = more.slice(cut + 1); }
          end = chunk.offset + chunk.length; append(more);
          indicator.textContent = start === 0 ? '(AT BEGINNING OF FILE)' : '';
        }
        setTimeout(tail, chunk.length >= truncate ? 0 : 1000);
      }).catch(function () { indicator.textContent = '(FAILED TO TAIL ... RETRYING)'; setTimeout(init, 1000); });
    }
    function page() {
      if (busy || start <= 0) return;
      busy = true; indicator.textContent = '(PAGING)';
      var from = Math.max(0, start - pageSize);
      get(from, start - from).then(function (chunk) {
        var height = pre.scrollHeight;
        text = decode(chunk.data || '') + text; start = from;
        render(true);
        pre.scrollTop = pre.scrollHeight - height;
        indicator.textContent = start === 0 ? '(AT BEGINNING OF FILE)' : '(PAGED)'; busy = false;
      }).catch(function () { indicator.textContent = '(FAILED TO PAGE ... RETRYING)'; busy = false; });
    }
    function init() {
      get(-1).then(function (info) {
        var size = info.offset || 0;
        start = end = Math.max(0, size - pageSize);
        text = ''; render(false);
        indicator.textContent = start === 0 ? '(AT BEGINNING OF FILE)' : '';
        tail();
      }).catch(function () { indicator.textContent = '(FAILED TO INITIALIZE ... RETRYING)'; setTimeout(init, 1000); });
    }
    pre.addEventListener('scroll', function () { if (pre.scrollTop === 0) page(); });
    if (wrap) wrap.addEventListener('change', function () { pre.classList.toggle('wrap', wrap.checked); });
    if (search) {
      search.addEventListener('input', function () { current = -1; render(true); });
      search.addEventListener('keydown', function (e) {
        if (e.key !== 'Enter') return;
        var marks = pre.querySelectorAll('mark');
        if (!marks.length) return;
        if (current >= 0 && marks[current]) marks[current].classList.remove('current');
        current = (current + 1) % marks.length;
        marks[current].classList.add('current');
        marks[current].scrollIntoView({block: 'center'});
        if (follow) follow.checked = false;
      });
    }
    init();
  }
  document.addEventListener('DOMContentLoaded', function () {
    liveContainers();
    var log = document.getElementById('log');
    if (log && log.dataset.url) pailer(log, document.getElementById('indicator'));
  });
  return { liveContainers: liveContainers, pailer: pailer };
})();
