/// The observer's Mustache templates, embedded in the binary (no resource bundles). `{{x}}`
/// HTML-escapes; nothing from a task is ever rendered with `{{{x}}}` except markup we build
/// (sparkline SVG from numbers).
enum Templates {
    static let layoutHead = """
        <!doctype html><html><head><meta charset="utf-8"><title>{{title}}</title>
        <link rel="stylesheet" href="/assets/observer.css"><script src="/assets/observer.js"></script></head>
        <body><header><a href="/">thermos observer</a> <span class="host">{{host}}</span></header><main>
        """
    static let layoutFoot = "</main></body></html>"

    static let all: [String: String] = [
        "index": layoutHead + """
            <section class="tasks" data-url="/main/active/0/20" id="active"><p>(LOADING)</p></section>
            <section class="tasks" data-url="/main/finished/0/20" id="finished"><p>(LOADING)</p></section>
            <script>observer.liveContainers(10000);</script>
            """ + layoutFoot,
        "main": """
            <table class="list"><caption>{{type}} tasks {{first}}…{{last}} of {{count}}
            {{#newer}}<a class="page" data-url="{{newer}}" href="#">← newer</a>{{/newer}}
            {{#older}}<a class="page" data-url="{{older}}" href="#">older →</a>{{/older}}</caption>
            <tr><th>name</th><th>role</th><th>launched</th><th>status</th><th>cpu</th><th>ram</th><th>disk</th><th></th><th>ports</th></tr>
            {{#rows}}<tr class="task"><td>{{name}}</td><td>{{role}}</td><td title="{{launchedUTC}}">{{launched}}</td>
            <td><span class="state state-{{state}}">{{state}}</span> <span class="ago">{{stateAgo}}</span></td><td>{{cpu}}</td><td>{{ram}}</td><td>{{disk}}</td>
            <td><a href="/task/{{taskID}}">info</a> <a href="/browse/{{taskID}}">browse</a></td>
            <td>{{#ports}}<a href="{{url}}">{{name}}</a> {{/ports}}</td></tr>{{/rows}}
            {{^rows}}<tr><td colspan="9" class="muted">No {{type}} tasks.</td></tr>{{/rows}}
            </table>
            """,
        "task": layoutHead + """
            <h1>{{taskID}} <span class="state state-{{state}}">{{state}}</span></h1>
            <table class="kv"><tr><th>name</th><td>{{name}}</td></tr><tr><th>user</th><td>{{user}}</td></tr>
            <tr><th>host</th><td>{{hostname}}</td></tr><tr><th>launched</th><td title="{{launchedUTC}}">{{launched}}</td></tr>
            <tr><th>sandbox</th><td>{{sandbox}} <a href="/browse/{{taskID}}">browse</a></td></tr>
            <tr><th>ports</th><td>{{#ports}}<a href="{{url}}">{{name}}:{{port}}</a> {{/ports}}{{^ports}}<span class="muted">none</span>{{/ports}}</td></tr>
            <tr><th>config</th><td><a href="/rawtask/{{taskID}}">task config</a></td></tr>
            {{#corruption}}<tr><th>checkpoint</th><td class="error">{{corruption}}</td></tr>{{/corruption}}</table>
            <h2>Resources</h2>
            <table class="kv"><tr><th>cpu</th><td>{{cpu}}</td><td class="spark">{{{cpuSpark}}}</td></tr>
            <tr><th>ram</th><td>{{ram}}</td><td class="spark">{{{ramSpark}}}</td></tr><tr><th>disk</th><td>{{disk}}</td><td></td></tr>
            <tr><th>processes</th><td>{{processCount}}</td><td></td></tr></table>
            <h2>Processes</h2>
            <table class="list" id="processes"><tr><th>name</th><th>run</th><th>status</th><th>rc</th><th>started</th><th>finished</th><th>cpu</th><th>ram</th><th>logs</th></tr>
            {{#processes}}<tr class="process"><td><a href="/process/{{taskID}}/{{name}}">{{name}}</a></td><td>{{run}}</td>
            <td><span class="state state-{{state}}">{{state}}</span></td><td>{{returnCode}}</td><td title="{{startUTC}}">{{started}}</td>
            <td title="{{stopUTC}}">{{finished}}</td><td>{{cpu}}</td><td>{{ram}}</td>
            <td><a href="/logs/{{taskID}}/{{name}}/{{run}}/stdout">stdout</a> <a href="/logs/{{taskID}}/{{name}}/{{run}}/stderr">stderr</a></td></tr>{{/processes}}
            </table>
            <h2>Status history</h2>
            <table class="list"><tr><th>state</th><th>time</th></tr>
            {{#statuses}}<tr><td><span class="state state-{{state}}">{{state}}</span></td><td title="{{utc}}">{{ago}}</td></tr>{{/statuses}}</table>
            """ + layoutFoot,
        "process": layoutHead + """
            <h1><a href="/task/{{taskID}}">{{taskID}}</a> / {{name}} <span class="state state-{{state}}">{{state}}</span></h1>
            <table class="kv"><tr><th>cmdline</th><td><code>{{cmdline}}</code></td></tr>
            <tr><th>cpu</th><td>{{cpu}}</td></tr><tr><th>ram</th><td>{{ram}}</td></tr><tr><th>user</th><td>{{userTime}}</td></tr>
            <tr><th>sys</th><td>{{systemTime}}</td></tr><tr><th>threads</th><td>{{threads}}</td></tr></table>
            <h2>Runs</h2>
            <table class="list" id="runs"><tr><th>run</th><th>status</th><th>rc</th><th>started</th><th>finished</th><th>logs</th></tr>
            {{#runs}}<tr><td>{{run}}</td><td><span class="state state-{{state}}">{{state}}</span></td><td>{{returnCode}}</td>
            <td title="{{startUTC}}">{{started}}</td><td title="{{stopUTC}}">{{finished}}</td>
            <td><a href="/logs/{{taskID}}/{{name}}/{{run}}/stdout">stdout</a> <a href="/logs/{{taskID}}/{{name}}/{{run}}/stderr">stderr</a></td></tr>{{/runs}}
            </table>
            """ + layoutFoot,
        "pailer": layoutHead + """
            <h1><a href="/task/{{taskID}}">{{taskID}}</a> / {{label}} <a href="{{download}}">download</a></h1>
            <div id="indicator">(LOADING)</div><pre id="log" data-url="{{dataURL}}"></pre>
            <script>observer.pailer(document.getElementById('log'), document.getElementById('indicator'));</script>
            """ + layoutFoot,
        "browse": layoutHead + """
            <h1><a href="/task/{{taskID}}">{{taskID}}</a> sandbox: /{{path}}</h1>
            {{^exists}}<p class="muted">This task has no sandbox on this machine.</p>{{/exists}}
            <table class="list files">{{#entries}}<tr><td><code>{{mode}}</code></td><td>{{size}}</td><td>{{mtime}}</td>
            <td>{{#dir}}<a href="/browse/{{taskID}}/{{link}}">{{name}}/</a>{{/dir}}{{^dir}}<a href="/file/{{taskID}}/{{link}}">{{name}}</a> <a href="/download/{{taskID}}/{{link}}">dl</a>{{/dir}}</td></tr>{{/entries}}</table>
            """ + layoutFoot,
        "raw": layoutHead + "<h1><a href=\"/task/{{taskID}}\">{{taskID}}</a> task config</h1><pre>{{json}}</pre>" + layoutFoot,
        "error": layoutHead + "<h1>{{message}}</h1>" + layoutFoot,
    ]
}

/// Embedded static assets: name → (content type, text).
enum Assets {
    static let files: [String: (String, String)] = [
        "observer.css": ("text/css; charset=utf-8", css),
        "observer.js": ("application/javascript; charset=utf-8", javascript),
    ]

    static let css = """
        body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
        header{background:#23303d;color:#fff;padding:8px 16px}header a{color:#fff;font-weight:bold;text-decoration:none}
        .host{color:#9ab;margin-left:8px}main{padding:8px 16px}h1{font-size:20px}h2{font-size:16px;margin-top:20px}
        table{border-collapse:collapse;margin:4px 0}th,td{padding:3px 8px;text-align:left;border-bottom:1px solid #e3e3e3}
        caption{text-align:left;font-weight:bold;padding:4px 0}.muted{color:#999}.error{color:#b00}
        .state{padding:1px 6px;border-radius:3px;font-size:12px;font-weight:bold;color:#fff;background:#888}
        .state-RUNNING,.state-ACTIVE{background:#2a7ae2}.state-SUCCESS{background:#2e9e44}.state-FAILED{background:#d33}
        .state-KILLED{background:#e08a00}.state-LOST{background:#8e44ad}.state-WAITING,.state-FORKED{background:#7f8c8d}
        .state-CLEANING,.state-FINALIZING{background:#16a085}.ago{color:#777;font-size:12px}
        pre#log{background:#111;color:#ddd;padding:8px;height:70vh;overflow:auto;white-space:pre-wrap}
        .spark svg{vertical-align:middle}a.page{margin-left:12px;font-weight:normal}
        """

    /// Live task lists and the pailer (reference §4.4: page 32 KiB backwards, tail every second,
    /// keep at most 50,000 characters).
    static let javascript = """
        var observer = (function () {
          function load(section) {
            fetch(section.dataset.url).then(function (r) { return r.text(); }).then(function (html) {
              section.innerHTML = html;
              section.querySelectorAll('a.page').forEach(function (a) {
                a.addEventListener('click', function (e) { e.preventDefault(); section.dataset.url = a.dataset.url; load(section); });
              });
            }).catch(function () {});
          }
          function liveContainers(period) {
            var sections = document.querySelectorAll('section.tasks');
            sections.forEach(load);
            setInterval(function () { sections.forEach(load); }, period);
          }
          function pailer(pre, indicator) {
            var pageSize = 8 * 4096, truncate = 50000, start = 0, end = 0, busy = false;
            function get(offset, length) {
              var url = pre.dataset.url + '?offset=' + offset + (length === undefined ? '' : '&length=' + length);
              return fetch(url).then(function (r) { return r.json(); });
            }
            function decode(text) { var t = document.createElement('textarea'); t.innerHTML = text; return t.value; }
            function append(text) {
              var atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
              pre.textContent += text;
              if (pre.textContent.length > truncate) { pre.textContent = pre.textContent.slice(-truncate); start = end - truncate; }
              if (atBottom) pre.scrollTop = pre.scrollHeight;
            }
            function tail() {
              get(end, truncate).then(function (chunk) {
                if (chunk.length > 0) {
                  var text = decode(chunk.data);
                  if (pre.textContent === '' && end > 0) { var cut = text.indexOf('\\n'); if (cut >= 0) text = text.slice(cut + 1); }
                  end = chunk.offset + chunk.length; append(text);
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
                var text = decode(chunk.data || ''), height = pre.scrollHeight;
                pre.textContent = text + pre.textContent; start = from;
                pre.scrollTop = pre.scrollHeight - height;
                indicator.textContent = start === 0 ? '(AT BEGINNING OF FILE)' : '(PAGED)'; busy = false;
              }).catch(function () { indicator.textContent = '(FAILED TO PAGE ... RETRYING)'; busy = false; });
            }
            function init() {
              get(-1).then(function (info) {
                var size = info.offset || 0;
                start = end = Math.max(0, size - pageSize);
                pre.textContent = '';
                indicator.textContent = start === 0 ? '(AT BEGINNING OF FILE)' : '';
                tail();
              }).catch(function () { indicator.textContent = '(FAILED TO INITIALIZE ... RETRYING)'; setTimeout(init, 1000); });
            }
            pre.addEventListener('scroll', function () { if (pre.scrollTop === 0) page(); });
            init();
          }
          return { liveContainers: liveContainers, pailer: pailer };
        })();
        """
}
