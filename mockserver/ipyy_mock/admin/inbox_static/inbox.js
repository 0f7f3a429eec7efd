/* ipyy-mock web inbox: shows what arrived, live. A server-sent event stream (/_mock/api/events, read with
 * fetch so that it can carry the admin token) says when something arrived, and the page asks the admin API
 * (/_mock/api/) at once; without the stream (another server, too many tabs) it polls about once a second.
 *
 * Everything shown here was sent by some client and may be hostile: the DOM is
 * built with createElement / textContent (the h() helper) only, never innerHTML,
 * and no attribute ever takes a URL or a style from the data. The page's CSP
 * forbids inline script and style, so nothing below uses them either.
 */
'use strict';

(function () {
  const API = 'api/';            // relative to /_mock/
  const TOKEN_KEY = 'ipyy-mock-admin-token';   // sessionStorage: this tab only, gone when it closes
  const POLL_MS = 1000;
  const STREAM_POLL_MS = 5000;   // while the event stream is open, polling is only a safety net
  const STREAM_RETRY_MS = 10000; // after the stream failed: poll, and try the stream again this much later
  const WINDOW = 200;            // newest messages / uplinks / tasks kept in the lists
  const JOURNAL_KEEP = 300;
  const VENDOR_SURFACES = ['soap11', 'soap12', 'http', 'other'];
  const STATUS = {
    sent: { label: 'waiting', title: 'sent; waiting for its delivery report' },
    scheduled: { label: 'scheduled', title: 'scheduled: sent when the (virtual) clock reaches its send time' },
    delivered: { label: 'delivered', title: 'delivered: report status 10' },
    failed: { label: 'failed', title: 'failed: report status 20' },
    refused: { label: 'refused', title: 'refused: left out of the send with a code, never sent or charged' },
  };

  const S = {
    gen: 0,                      // bumped on account switch: late answers for the old account are dropped
    account: null,
    accounts: [],
    accountInfo: null,
    accountMissing: false,
    messages: new Map(),
    maxMessageId: 0,
    messagesLoaded: false,
    uplinks: new Map(),
    tasks: new Map(),
    maxTaskId: 0,
    tasksLoaded: false,
    conversations: [],
    conversationsLoaded: false,
    mobile: null,
    conv: { messages: [], uplinks: [], loaded: false },
    taskId: null,
    task: { messages: [], loaded: false },
    tab: 'feed',
    view: 'inbox',
    filter: '',
    known: new Set(),            // item keys already shown: anything else is highlighted as new
    primed: false,
    now: null,
    tick: 0,
    running: false,
    again: false,
    timer: null,
    stream: 'off',               // off | open | polling: the live event stream's state (#live data-stream)
    online: null,
    flash: null,
    journal: { entries: new Map(), lastId: 0, loaded: false, all: false, available: null, enabled: null,
               open: new Set(), error: null },
  };

  // -- DOM helpers -------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);

  /** createElement with text children only; props: class, text, title, data-*, aria-*, on: {event: fn}, plain attrs. */
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = String(v);
        else if (k === 'title') el.title = String(v);
        else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false || kid === '') continue;
      el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return el;
  }

  function setText(id, text) {
    const el = $(id);
    const value = text === null || text === undefined ? '' : String(text);
    if (el && el.textContent !== value) el.textContent = value;
  }

  /** Bring container's keyed children ([data-key]) to items' order; rebuild an item only when its sig changed. */
  function reconcile(container, items) {
    const old = new Map();
    for (const el of container.children) if (el.dataset.key) old.set(el.dataset.key, el);
    const wanted = [];
    for (const it of items) {
      let el = old.get(it.key);
      if (!el || el.dataset.sig !== it.sig) {
        const built = it.build();
        built.dataset.key = it.key;
        built.dataset.sig = it.sig;
        if (el) el.replaceWith(built);
        el = built;
      }
      wanted.push(el);
    }
    const keep = new Set(wanted);
    for (const el of [...container.children]) if (el.dataset.key && !keep.has(el)) el.remove();
    const current = [...container.children].filter((el) => el.dataset.key);
    if (current.length !== wanted.length || current.some((el, i) => el !== wanted[i])) {
      for (const el of wanted) container.append(el);
    }
  }

  function qs(params) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') p.set(k, String(v));
    const s = p.toString();
    return s ? `?${s}` : '';
  }

  // -- formatting -----------------------------------------------------------------------------
  /** Platform time as the mock sends it (ISO with its zone): time only when it is today there. */
  function fmtTime(iso, withDate) {
    if (!iso || typeof iso !== 'string') return '';
    const day = iso.slice(0, 10);
    const time = iso.slice(11, 19);
    const today = S.now ? S.now.slice(0, 10) : null;
    return withDate || day !== today ? `${day} ${time}` : time;
  }
  const stamp = (iso) => (iso ? Date.parse(iso) || 0 : 0);
  const plural = (n, word) => `${n} ${word}${Number(n) === 1 ? '' : 's'}`;

  function badge(status) {
    const info = STATUS[status] || { label: String(status || '?'), title: '' };
    return h('span', { class: `badge st-${STATUS[status] ? status : 'other'}`, title: info.title }, info.label);
  }

  function uplinkState(u) {
    if (u.route === 'push') return u.consumed ? 'pushed' : 'push pending';
    return u.consumed ? 'pulled' : 'queued for callApi';
  }

  function reportLine(m) {
    if (m.status === 'delivered' || m.status === 'failed') {
      return `report ${m.report_status ?? ''} ${m.report_errorcode ?? ''}`.replace(/\s+/g, ' ').trim()
        + (m.reported_at ? ` · ${fmtTime(m.reported_at)}` : '');
    }
    if (m.status === 'scheduled') return `sends at ${fmtTime(m.send_at, true)}`;
    if (m.status === 'refused') return `not sent: ${m.refusal || 'refused'}`;
    if (m.report_due_at) return `report due ${fmtTime(m.report_due_at)}`;
    return 'no report will come by itself';
  }

  function billingLine(m) {
    return `${plural(m.segments, 'segment')} × ${m.price} = ${m.amount}`;
  }

  // -- the admin token (a server started with one wants it from every caller) ----------------------
  function storedToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }

  function askToken(wrong) {
    if (wrong) { try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage off: nothing kept */ } }
    const form = $('token-form');
    if (wrong || form.hidden) setText('token-status', wrong ? 'That token is wrong: the mock refused it.' : '');
    if (form.hidden) { form.hidden = false; $('token-input').focus(); }
  }

  function useToken(ev) {
    ev.preventDefault();
    const token = $('token-input').value.trim();
    if (!token) { setText('token-status', 'Type the token first.'); return; }
    try { sessionStorage.setItem(TOKEN_KEY, token); } catch (e) { setText('token-status', 'This browser keeps no session storage.'); return; }
    $('token-input').value = '';
    $('token-form').hidden = true;
    refreshNow();
  }

  // -- the admin API -----------------------------------------------------------------------------
  async function api(path, opts) {
    const o = opts || {};
    const init = { method: o.method || 'GET', headers: { Accept: 'application/json' }, cache: 'no-store',
                   credentials: 'same-origin', redirect: 'error' };
    const token = storedToken();
    if (token) init.headers['X-Admin-Token'] = token;
    if (o.body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(o.body);
    } else {
      init.headers['X-Ipyy-Inbox'] = 'poll';   // lets the journal tell the inbox's own polling apart
    }
    let res;
    try {
      res = await fetch(API + path, init);
    } catch (e) {
      const err = new Error('the mock does not answer');
      err.network = true;
      throw err;
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.status === 401) askToken(false);
    else if (res.status === 403 && data && data.error === 'wrong admin token') askToken(true);
    if (!res.ok) {
      const err = new Error((data && typeof data.error === 'string' && data.error) || `HTTP ${res.status}`);
      err.status = res.status;
      err.hint = data && typeof data.hint === 'string' ? data.hint : '';
      throw err;
    }
    if (data === null || typeof data !== 'object') throw new Error('the admin API did not answer JSON');
    return data;
  }

  // -- polling -------------------------------------------------------------------------------------
  const pending = (m) => m.status === 'sent' || m.status === 'scheduled';

  async function pollAccounts() {
    const data = await api('accounts');
    S.accounts = (data.accounts || []).map((a) => a.name).filter((n) => typeof n === 'string');
  }

  async function pollAccount(gen) {
    try {
      const data = await api(`accounts/${encodeURIComponent(S.account)}`);
      if (gen !== S.gen) return;
      S.accountInfo = data;
      S.accountMissing = false;
    } catch (e) {
      if (gen !== S.gen) return;
      if (e.status === 404) { S.accountInfo = null; S.accountMissing = true; return; }
      throw e;
    }
  }

  async function pollMessages(gen) {
    const full = !S.messagesLoaded || S.tick % 10 === 0 || [...S.messages.values()].some(pending);
    const data = await api('messages' + qs({ account: S.account, limit: WINDOW,
                                             since_id: full ? null : S.maxMessageId }));
    if (gen !== S.gen) return;
    if (typeof data.now === 'string') S.now = data.now;
    const list = Array.isArray(data.messages) ? data.messages : [];
    if (full) S.messages = new Map();
    for (const m of list) S.messages.set(m.id, m);
    if (S.messages.size > WINDOW) {
      const ids = [...S.messages.keys()].sort((a, b) => b - a);
      for (const id of ids.slice(WINDOW)) S.messages.delete(id);
    }
    S.maxMessageId = Math.max(0, ...S.messages.keys());
    S.messagesLoaded = true;
  }

  async function pollUplinks(gen) {
    const data = await api('uplinks' + qs({ account: S.account, limit: WINDOW }));
    if (gen !== S.gen) return;
    S.uplinks = new Map((data.uplinks || []).map((u) => [u.id, u]));
  }

  async function pollTasks(gen) {
    const full = !S.tasksLoaded || S.tick % 10 === 0;
    const data = await api('tasks' + qs({ account: S.account, limit: WINDOW, since_id: full ? null : S.maxTaskId }));
    if (gen !== S.gen) return;
    if (full) S.tasks = new Map();
    for (const t of data.tasks || []) S.tasks.set(t.id, t);
    if (S.tasks.size > WINDOW) {
      const ids = [...S.tasks.keys()].sort((a, b) => b - a);
      for (const id of ids.slice(WINDOW)) S.tasks.delete(id);
    }
    S.maxTaskId = Math.max(0, ...S.tasks.keys());
    S.tasksLoaded = true;
  }

  async function pollConversations(gen) {
    const data = await api('conversations' + qs({ account: S.account, limit: WINDOW }));
    if (gen !== S.gen) return;
    S.conversations = data.conversations || [];
    S.conversationsLoaded = true;
  }

  async function pollConversation(gen) {
    const mobile = S.mobile;
    const [msgs, ups] = await Promise.all([
      api('messages' + qs({ account: S.account, mobile, limit: 1000 })),
      api('uplinks' + qs({ account: S.account, mobile, limit: 1000 })),
    ]);
    if (gen !== S.gen || mobile !== S.mobile) return;
    if (typeof msgs.now === 'string') S.now = msgs.now;
    S.conv = { messages: msgs.messages || [], uplinks: ups.uplinks || [], loaded: true };
  }

  async function pollTask(gen) {
    const taskId = S.taskId;
    const [msgs, tasks] = await Promise.all([
      api('messages' + qs({ account: S.account, task_id: taskId, limit: 1000 })),
      S.tasks.has(taskId) ? null : api('tasks' + qs({ account: S.account, task_id: taskId, limit: 1 })),
    ]);
    if (gen !== S.gen || taskId !== S.taskId) return;
    const info = S.tasks.get(taskId) || (tasks && (tasks.tasks || [])[0]) || null;
    S.task = { messages: msgs.messages || [], info, loaded: true };
  }

  async function pollJournal() {
    const J = S.journal;
    try {
      let entries;
      if (!J.loaded) {
        const newest = await api('journal' + qs({ limit: 1 }));
        J.enabled = newest.enabled;
        const top = (newest.entries || []).map((e) => e.id);
        if (J.all) {
          entries = (await api('journal' + qs({ limit: JOURNAL_KEEP }))).entries || [];
        } else {
          const parts = await Promise.all(VENDOR_SURFACES.map((s) => api('journal' + qs({ limit: 100, surface: s }))));
          entries = parts.flatMap((p) => p.entries || []);
        }
        J.entries = new Map();
        J.lastId = Math.max(0, ...top, ...entries.map((e) => e.id));
        J.loaded = true;
      } else {
        const data = await api('journal' + qs({ since: J.lastId, limit: JOURNAL_KEEP }));
        J.enabled = data.enabled;
        entries = data.entries || [];
        J.lastId = Math.max(J.lastId, ...entries.map((e) => e.id));
      }
      for (const e of entries) if (J.all || VENDOR_SURFACES.includes(e.surface)) J.entries.set(e.id, e);
      if (J.entries.size > JOURNAL_KEEP) {
        const ids = [...J.entries.keys()].sort((a, b) => b - a);
        for (const id of ids.slice(JOURNAL_KEEP)) J.entries.delete(id);
      }
      J.available = true;
      J.error = null;
    } catch (e) {
      // No journal endpoint (an older mock, or a proxy in front that does not pass it): say so, keep the inbox live.
      if (e.network || e.status === 404 || e.status === 405 || e.status === 501) { J.available = false; J.error = null; }
      else J.error = e.message;
    }
  }

  async function tick() {
    if (S.running) { S.again = true; return; }
    S.running = true;
    clearTimeout(S.timer);
    try {
      if (!document.hidden && S.account) {
        S.tick += 1;
        const gen = S.gen;
        const jobs = [pollAccount(gen), pollMessages(gen), pollUplinks(gen), pollTasks(gen)];
        if (S.tick % 15 === 1 || !S.accounts.length) jobs.push(pollAccounts());
        if (S.tab === 'numbers' || !S.conversationsLoaded || S.tick % 5 === 0) jobs.push(pollConversations(gen));
        if (S.mobile) jobs.push(pollConversation(gen));
        if (S.taskId !== null) jobs.push(pollTask(gen));
        if (S.view === 'journal') jobs.push(pollJournal());
        const results = await Promise.allSettled(jobs);
        const failed = results.find((r) => r.status === 'rejected');
        setLive(!failed, failed ? failed.reason : null);
        render();
      }
    } catch (e) {
      setLive(false, e);
    } finally {
      S.running = false;
      if (S.again) { S.again = false; S.timer = setTimeout(tick, 0); }
      else S.timer = setTimeout(tick, S.stream === 'open' ? STREAM_POLL_MS : POLL_MS);
    }
  }
  const refreshNow = () => tick();

  // -- the live event stream -----------------------------------------------------------------------------
  function setStream(state) {
    S.stream = state;
    $('live').dataset.stream = state;
  }

  function streamBlock(block, st) {
    let name = 'message';
    for (const line of block.split('\n')) {
      if (line.startsWith('retry:')) {
        const ms = parseInt(line.slice(6).trim(), 10);
        if (ms >= 0) st.retry = ms;
      } else if (line.startsWith('event:')) name = line.slice(6).trim();
    }
    if (name === 'change' || name === 'hello') refreshNow();
  }

  async function stream() {
    const st = { retry: STREAM_RETRY_MS };
    const init = { headers: { Accept: 'text/event-stream' }, cache: 'no-store', credentials: 'same-origin',
                   redirect: 'error' };
    const token = storedToken();
    if (token) init.headers['X-Admin-Token'] = token;
    try {
      const res = await fetch(API + 'events', init);
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      setStream('open');
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          streamBlock(buf.slice(0, end), st);
          buf = buf.slice(end + 2);
        }
      }
      // the server ends every stream after a while (its `retry:` says when to come back)
    } catch (e) {
      st.retry = STREAM_RETRY_MS;
    }
    setStream(st.retry === STREAM_RETRY_MS ? 'polling' : 'off');
    refreshNow();
    setTimeout(stream, st.retry);
  }

  function setLive(ok, err) {
    const el = $('live');
    el.dataset.state = ok ? 'live' : 'offline';
    const text = ok ? 'live' : `offline: ${(err && err.message) || 'no answer'}, retrying`;
    setText('live-text', text);
    el.title = ok ? (S.stream === 'open' ? 'live: the mock tells this page when something arrives'
                               : 'refreshing about once a second') : text;
    S.online = ok;
  }

  // -- rendering -------------------------------------------------------------------------------------
  function matches(...fields) {
    if (!S.filter) return true;
    const needle = S.filter.toLowerCase();
    return fields.some((f) => f !== null && f !== undefined && String(f).toLowerCase().includes(needle));
  }

  function freshClass(key) {
    const fresh = S.primed && !S.known.has(key);
    S.known.add(key);
    return fresh ? ' fresh' : '';
  }

  function feedItems() {
    const items = [];
    for (const m of S.messages.values()) {
      if (!matches(m.mobile, m.content, m.task_id)) continue;
      items.push({ t: stamp(m.created_at), kind: 1, id: m.id, key: `m${m.id}`, m });
    }
    for (const u of S.uplinks.values()) {
      if (!matches(u.mobile, u.content, u.task_id)) continue;
      items.push({ t: stamp(u.receive_time), kind: 2, id: u.id, key: `u${u.id}`, u });
    }
    items.sort((a, b) => b.t - a.t || b.kind - a.kind || b.id - a.id);
    return items.map((it) => {
      const selected = it.m ? it.m.mobile === S.mobile : it.u.mobile === S.mobile;
      const data = it.m || it.u;
      return { key: it.key, sig: JSON.stringify([data, selected, S.now && S.now.slice(0, 10)]),
               build: () => (it.m ? messageItem(it.m, selected, it.key) : uplinkItem(it.u, selected, it.key)) };
    });
  }

  function messageItem(m, selected, key) {
    return h('li', { class: `item out${selected ? ' selected' : ''}${freshClass(key)}`, tabindex: '0',
                     'data-mobile': m.mobile, 'data-message-id': m.id,
                     on: { click: () => openConversation(m.mobile), keydown: enterOpens(() => openConversation(m.mobile)) } },
      h('div', { class: 'item-top' },
        h('span', { class: 'dir', title: 'sent to' }, '→'),
        h('span', { class: 'item-mobile' }, m.mobile),
        h('span', { class: 'item-time', title: m.created_at }, fmtTime(m.created_at))),
      h('div', { class: 'item-text' }, m.content),
      h('div', { class: 'item-meta' },
        h('span', { class: 'chip' }, `#${m.task_id}`),
        h('span', { class: 'chip' }, m.via),
        h('span', { class: 'chip' }, `${plural(m.segments, 'seg')} · ${m.amount}`),
        warningChip(m.warnings),
        h('span', { class: 'grow' }),
        badge(m.status)));
  }

  // Conformance warnings (the vendor accepted the request, its document does not): a chip on lists, a list on
  // bubbles and journal rows. Text only, never HTML: details quote what the client sent.
  function warningChip(warnings) {
    if (!warnings || !warnings.length) return null;
    return h('span', { class: 'chip warn', 'data-warnings': warnings.map((w) => w.code).join(' '),
                       title: warnings.map((w) => `${w.code}: ${w.detail}`).join('\n') },
      `⚠ ${plural(warnings.length, 'warning')}`);
  }

  function warningList(warnings) {
    if (!warnings || !warnings.length) return null;
    return h('ul', { class: 'warnings' }, ...warnings.map((w) => h('li', { 'data-code': w.code },
      h('strong', null, w.code), ` ${w.detail}`, w.fix ? h('span', { class: 'muted' }, ` ${w.fix}`) : null)));
  }

  function uplinkItem(u, selected, key) {
    return h('li', { class: `item in${selected ? ' selected' : ''}${freshClass(key)}`, tabindex: '0',
                     'data-mobile': u.mobile, 'data-uplink-id': u.id,
                     on: { click: () => openConversation(u.mobile), keydown: enterOpens(() => openConversation(u.mobile)) } },
      h('div', { class: 'item-top' },
        h('span', { class: 'dir', title: 'reply from' }, '←'),
        h('span', { class: 'item-mobile' }, u.mobile),
        h('span', { class: 'item-time', title: u.receive_time }, fmtTime(u.receive_time))),
      h('div', { class: 'item-text' }, u.content),
      h('div', { class: 'item-meta' },
        h('span', { class: 'chip reply-chip' }, 'reply'),
        u.task_id ? h('span', { class: 'chip' }, `#${u.task_id}`) : null,
        h('span', { class: 'grow' }),
        h('span', { class: 'badge st-uplink' }, uplinkState(u))));
  }

  function numberItems() {
    return S.conversations.filter((c) => matches(c.mobile)).map((c) => {
      const selected = c.mobile === S.mobile;
      const key = `n${c.mobile}`;
      return { key, sig: JSON.stringify([c, selected, S.now && S.now.slice(0, 10)]), build: () =>
        h('li', { class: `item number${selected ? ' selected' : ''}${freshClass(key)}`, tabindex: '0', 'data-mobile': c.mobile,
                  on: { click: () => openConversation(c.mobile), keydown: enterOpens(() => openConversation(c.mobile)) } },
          h('div', { class: 'item-top' },
            h('span', { class: 'item-mobile' }, c.mobile),
            h('span', { class: 'item-time', title: c.last_at }, fmtTime(c.last_at))),
          h('div', { class: 'item-meta' },
            h('span', { class: 'chip' }, `${c.sent} sent`),
            c.received ? h('span', { class: 'chip reply-chip' }, plural(c.received, 'reply').replace('replys', 'replies'))
              : null)) };
    });
  }

  function taskItems() {
    const tasks = [...S.tasks.values()].filter((t) => matches(t.id, t.content)).sort((a, b) => b.id - a.id);
    return tasks.map((t) => {
      const selected = t.id === S.taskId;
      const key = `t${t.id}`;
      return { key, sig: JSON.stringify([t, selected, S.now && S.now.slice(0, 10)]), build: () =>
        h('li', { class: `item task${selected ? ' selected' : ''}${freshClass(key)}`, tabindex: '0', 'data-task-id': t.id,
                  on: { click: () => openTask(t.id), keydown: enterOpens(() => openTask(t.id)) } },
          h('div', { class: 'item-top' },
            h('span', { class: 'item-mobile' }, `Task #${t.id}`),
            h('span', { class: 'item-time', title: t.created_at }, fmtTime(t.created_at))),
          h('div', { class: 'item-text' }, t.content),
          h('div', { class: 'item-meta' },
            h('span', { class: 'chip' }, t.via),
            h('span', { class: 'chip' }, plural(t.recipients, 'recipient')),
            h('span', { class: 'chip' }, `${plural(t.billing_count, 'seg')} · ${t.billing_amount}`),
            t.scheduled ? h('span', { class: 'badge st-scheduled', title: `send at ${t.send_at}` }, 'scheduled') : null)) };
    });
  }

  function enterOpens(fn) {
    return (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); fn(); } };
  }

  function outcomeButtons(m) {
    if (m.status !== 'sent') return null;
    return h('span', { class: 'actions' },
      h('button', { type: 'button', class: 'act act-delivered', title: 'Produce a delivery report (status 10) now',
                    on: { click: (ev) => setOutcome(m.id, 'delivered', ev.currentTarget) } }, 'Mark delivered'),
      h('button', { type: 'button', class: 'act act-failed', title: 'Produce a failure report (status 20) now',
                    on: { click: (ev) => setOutcome(m.id, 'failed', ev.currentTarget) } }, 'Mark failed'));
  }

  function threadItems() {
    const items = [];
    for (const m of S.conv.messages) items.push({ t: stamp(m.created_at), kind: 1, id: m.id, m });
    for (const u of S.conv.uplinks) items.push({ t: stamp(u.receive_time), kind: 2, id: u.id, u });
    items.sort((a, b) => a.t - b.t || a.kind - b.kind || a.id - b.id);
    const day = S.now && S.now.slice(0, 10);
    return items.map((it) => (it.m
      ? { key: `m${it.m.id}`, sig: JSON.stringify([it.m, day]), build: () => outBubble(it.m) }
      : { key: `u${it.u.id}`, sig: JSON.stringify([it.u, day]), build: () => inBubble(it.u) }));
  }

  function outBubble(m) {
    return h('li', { class: `bubble out st-${m.status}`, 'data-message-id': m.id, 'data-status': m.status },
      h('div', { class: 'bubble-text' }, m.content),
      h('div', { class: 'bubble-meta' },
        h('span', { title: m.created_at }, fmtTime(m.created_at)),
        h('span', null, `task #${m.task_id}`),
        h('span', null, m.via),
        h('span', { title: 'segments × price per segment = amount charged' }, billingLine(m)),
        m.ext_number ? h('span', null, `extno ${m.ext_number}`) : null),
      h('div', { class: 'bubble-status' },
        badge(m.status),
        h('span', { class: 'report', title: m.reported_at || m.report_due_at || '' }, reportLine(m)),
        outcomeButtons(m)),
      warningList(m.warnings));
  }

  function inBubble(u) {
    return h('li', { class: 'bubble in', 'data-uplink-id': u.id },
      h('div', { class: 'bubble-text' }, u.content),
      h('div', { class: 'bubble-meta' },
        h('span', { title: u.receive_time }, fmtTime(u.receive_time)),
        h('span', null, 'reply'),
        u.task_id ? h('span', null, `to task #${u.task_id}`) : h('span', null, 'no task'),
        u.extno ? h('span', null, `extno ${u.extno}`) : null,
        h('span', { class: 'uplink-state' }, uplinkState(u))));
  }

  function taskRows() {
    const day = S.now && S.now.slice(0, 10);
    return [...S.task.messages].sort((a, b) => a.id - b.id).map((m) => ({
      key: `r${m.id}`, sig: JSON.stringify([m, day]), build: () =>
        h('tr', { 'data-message-id': m.id, 'data-status': m.status },
          h('td', null, h('button', { type: 'button', class: 'linkish', title: 'Open the conversation',
                                      on: { click: () => openConversation(m.mobile) } }, m.mobile)),
          h('td', { class: 'num' }, `${m.segments} × ${m.price}`),
          h('td', { class: 'num' }, m.amount),
          h('td', null, badge(m.status)),
          h('td', { class: 'muted' }, reportLine(m)),
          h('td', null, outcomeButtons(m))),
    }));
  }

  function renderTopbar() {
    const select = $('account');
    const names = S.accounts.includes(S.account) || !S.account ? S.accounts : [S.account, ...S.accounts];
    const have = [...select.options].map((o) => o.value);
    if (have.length !== names.length || have.some((n, i) => n !== names[i])) {
      select.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
    }
    if (select.value !== S.account) select.value = S.account;
    const a = S.accountInfo;
    if (S.accountMissing) {
      setText('balance-value', 'no such account');
      setText('balance-kind', '');
    } else if (a) {
      setText('balance-value', a.balance);
      setText('balance-kind', `${a.pay_type}${a.stopped ? ' · stopped' : ''}`);
      $('balance').classList.toggle('low', Number(a.balance) <= 0);
    }
    if (S.now) {
      setText('clock', fmtTime(S.now, true));
      $('clock').title = `the mock's platform time: ${S.now}`;
    }
  }

  function renderLists() {
    const lists = { feed: feedItems(), numbers: numberItems(), tasks: taskItems() };
    for (const [name, items] of Object.entries(lists)) {
      reconcile($(name), items);
      $(name).hidden = S.tab !== name;
      $(`tab-${name}`).classList.toggle('active', S.tab === name);
      $(`tab-${name}`).setAttribute('aria-selected', String(S.tab === name));
    }
    setText('count-feed', S.messages.size + S.uplinks.size || '');
    setText('count-numbers', S.conversations.length || '');
    setText('count-tasks', S.tasks.size || '');
    const loaded = S.tab === 'feed' ? S.messagesLoaded : S.tab === 'tasks' ? S.tasksLoaded : S.conversationsLoaded;
    const empty = loaded && lists[S.tab].length === 0;
    $('list-empty').hidden = !empty;
    setText('list-empty', S.filter ? `Nothing matches “${S.filter}”.`
      : 'Nothing yet. Send something to this account (SOAP or HTTP) and it shows up here at once.');
  }

  function renderConversation() {
    const open = Boolean(S.mobile);
    $('conversation').hidden = !open;
    if (!open) return;
    setText('conv-title', S.mobile);
    setText('reply-as', S.mobile);
    const sent = S.conv.messages;
    const total = sent.reduce((sum, m) => sum + Number(m.amount || 0), 0);
    const country = sent.length ? sent[0].country : '';
    setText('conv-sub', [country ? `country ${country}` : null, `${sent.length} sent`,
                         plural(S.conv.uplinks.length, 'reply').replace('replys', 'replies'),
                         sent.length ? `charged ${total.toFixed(2)}` : null,
                         S.conv.loaded ? null : 'loading…'].filter(Boolean).join(' · '));
    const thread = $('thread');
    const atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 48;
    const before = thread.childElementCount;
    reconcile(thread, threadItems());
    if (atBottom || before === 0 || thread.dataset.mobile !== S.mobile) {
      thread.scrollTop = thread.scrollHeight;
      thread.dataset.mobile = S.mobile;
    }
  }

  function renderTask() {
    const open = S.taskId !== null && !S.mobile;
    $('task-view').hidden = !open;
    if (!open) return;
    const t = S.task.info || S.tasks.get(S.taskId);
    setText('task-title', `Task #${S.taskId}`);
    setText('task-sub', t ? [`via ${t.via}`, `created ${fmtTime(t.created_at, true)}`,
                             t.scheduled ? `scheduled for ${fmtTime(t.send_at, true)}` : null,
                             plural(t.recipients, 'recipient'), plural(t.billing_count, 'segment'),
                             `charged ${t.billing_amount}`, t.ext_number ? `extno ${t.ext_number}` : null]
      .filter(Boolean).join(' · ') : (S.task.loaded ? 'no such task for this account' : 'loading…'));
    setText('task-content', t ? t.content : '');
    reconcile($('task-rows'), taskRows());
  }

  function renderJournal() {
    const J = S.journal;
    const visible = S.view === 'journal';
    $('journal-view').hidden = !visible;
    $('inbox-view').hidden = visible;
    $('view-inbox').classList.toggle('active', !visible);
    $('view-journal').classList.toggle('active', visible);
    if (!visible) return;
    const unavailable = J.available === false;
    $('journal-unavailable').hidden = !unavailable && J.enabled !== false && !J.error;
    setText('journal-unavailable', unavailable
      ? 'Journal unavailable: this mock does not answer /_mock/api/journal.'
      : J.enabled === false ? 'The journal is switched off for this server (it was started without it).'
        : J.error ? `Journal unavailable: ${J.error}` : '');
    $('journal-table').hidden = unavailable;
    const entries = [...J.entries.values()].sort((a, b) => b.id - a.id)
      .filter((e) => matches(e.path, e.account, e.surface, e.method, e.status));
    const rows = entries.map((e) => {
      const open = J.open.has(e.id);
      return { key: `j${e.id}`, sig: `${e.id}:${open}`, build: () => journalGroup(e, open) };
    });
    reconcile($('journal-table'), rows);
    $('journal-empty').hidden = unavailable || !J.loaded || rows.length > 0;
  }

  function statusClass(status) {
    if (status === null || status === undefined) return 'http-none';
    if (status >= 500) return 'http-5xx';
    if (status >= 400) return 'http-4xx';
    if (status >= 300) return 'http-3xx';
    return 'http-2xx';
  }

  function journalGroup(e, open) {
    const toggle = () => {
      if (S.journal.open.has(e.id)) S.journal.open.delete(e.id); else S.journal.open.add(e.id);
      renderJournal();
    };
    const at = typeof e.at === 'string' ? e.at : '';
    const row = h('tr', { class: `jrow${open ? ' open' : ''}`, tabindex: '0', 'data-surface': e.surface,
                          on: { click: toggle, keydown: enterOpens(toggle) } },
      h('td', { class: 'mono', title: at }, at.slice(11, 23)),
      h('td', null, h('span', { class: `surface sf-${/^[a-z0-9]+$/.test(e.surface) ? e.surface : 'other'}` }, e.surface)),
      h('td', { class: 'mono' }, e.method),
      h('td', { class: 'mono path' }, e.path, e.query ? h('span', { class: 'muted' }, `?${e.query}`) : null,
        e.fault ? h('span', { class: 'badge st-failed', title: e.fault }, 'fault') : null,
        warningChip(e.warnings)),
      h('td', null, h('span', { class: `http ${statusClass(e.status)}` }, e.status ?? '—')),
      h('td', { class: 'num mono' }, typeof e.duration_ms === 'number' ? `${e.duration_ms.toFixed(1)} ms` : ''),
      h('td', null, e.account || ''));
    const body = h('tbody', null, row);
    if (open) {
      const block = (title, note, text) => (text
        ? [h('h4', null, title, note ? h('span', { class: 'h4-note' }, note) : null), h('pre', null, text)] : []);
      body.append(h('tr', { class: 'jdetail' }, h('td', { colspan: '7' },
        h('div', { class: 'jdetail-grid' },
          h('div', null, block('Request headers', null, e.request_headers),
            block('Request body', `${e.request_content_type || 'no content type'} · ${e.request_bytes} bytes`, e.request_body),
            block('Client', null, e.client_ip)),
          h('div', null,
            block('Response body', `${e.response_content_type || 'no content type'} · ${e.response_bytes} bytes`, e.response_body),
            block('Fault injected', null, e.fault), block('Error', null, e.error),
            e.warnings && e.warnings.length ? [h('h4', null, 'Conformance warnings'), warningList(e.warnings)] : [])))));
    }
    return body;
  }

  function render() {
    renderTopbar();
    renderLists();
    renderConversation();
    renderTask();
    $('placeholder').hidden = Boolean(S.mobile) || S.taskId !== null;
    renderJournal();
    if (S.messagesLoaded && S.tasksLoaded && S.conversationsLoaded) S.primed = true;
  }

  // -- actions ---------------------------------------------------------------------------------------
  async function setOutcome(id, status, button) {
    const buttons = button && button.parentElement ? [...button.parentElement.querySelectorAll('button')] : [];
    for (const b of buttons) b.disabled = true;
    try {
      await api(`messages/${encodeURIComponent(id)}/outcome`, { method: 'POST', body: { status } });
    } catch (e) {
      for (const b of buttons) b.disabled = false;
      toast(`Could not mark message ${id} ${status}: ${e.message}${e.hint ? ` (${e.hint})` : ''}`, true);
      return;
    }
    toast(`Message ${id} marked ${status}: its report is out.`, false);
    refreshNow();
  }

  function toast(text, isError) {
    const el = $('toast');
    el.textContent = text;
    el.classList.toggle('error', Boolean(isError));
    el.hidden = false;
    clearTimeout(S.flash);
    S.flash = setTimeout(() => { el.hidden = true; }, isError ? 8000 : 3000);
  }

  function showStatus(text, isError) {
    const el = $('reply-status');
    el.textContent = text;
    el.classList.toggle('error', Boolean(isError));
  }

  async function sendReply(ev) {
    ev.preventDefault();
    const content = $('reply-content').value;
    const extno = $('reply-extno').value.trim();
    if (!content.trim()) { showStatus('Type the reply first.', true); return; }
    if (extno && !/^[0-9]{1,5}$/.test(extno)) { showStatus('extno: 1 to 5 digits, or empty.', true); return; }
    const button = $('reply-send');
    button.disabled = true;
    try {
      const r = await api('uplinks', { method: 'POST', body: { account: S.account, mobile: S.mobile, content, extno } });
      $('reply-content').value = '';
      const where = r.route === 'push' ? 'it will be pushed to the account’s push URL'
        : 'callApi.aspx / callJsonApi.aspx hand it out';
      showStatus(`Reply #${r.id} injected${r.task_id ? ` (task #${r.task_id})` : ' (no task sent to this number yet)'}: ${where}.`, false);
    } catch (e) {
      showStatus(`Not sent: ${e.message}${e.hint ? ` (${e.hint})` : ''}`, true);
    } finally {
      button.disabled = false;
      refreshNow();
    }
  }

  function writeHash() {
    const p = new URLSearchParams();
    if (S.account) p.set('account', S.account);
    if (S.mobile) p.set('mobile', S.mobile);
    else if (S.taskId !== null) p.set('task', String(S.taskId));
    if (S.view !== 'inbox') p.set('view', S.view);
    if (S.tab !== 'feed') p.set('tab', S.tab);
    const hash = `#${p.toString()}`;
    if (location.hash !== hash) history.replaceState(null, '', hash);
  }

  function openConversation(mobile) {
    if (S.mobile !== mobile) {
      S.mobile = mobile;
      S.conv = { messages: [], uplinks: [], loaded: false };
      $('thread').replaceChildren();
      showStatus('', false);
    }
    S.taskId = null;
    writeHash();
    render();
    refreshNow();
  }

  function openTask(id) {
    S.mobile = null;
    if (S.taskId !== id) { S.taskId = id; S.task = { messages: [], loaded: false }; $('task-rows').replaceChildren(); }
    writeHash();
    render();
    refreshNow();
  }

  function closeDetail() {
    S.mobile = null;
    S.taskId = null;
    writeHash();
    render();
  }

  function switchAccount(name) {
    if (name === S.account) return;
    S.gen += 1;
    S.account = name;
    S.accountInfo = null;
    S.accountMissing = false;
    S.messages = new Map(); S.maxMessageId = 0; S.messagesLoaded = false;
    S.uplinks = new Map();
    S.tasks = new Map(); S.maxTaskId = 0; S.tasksLoaded = false;
    S.conversations = []; S.conversationsLoaded = false;
    S.known = new Set(); S.primed = false;
    S.mobile = null; S.taskId = null;
    for (const id of ['feed', 'numbers', 'tasks', 'thread', 'task-rows']) $(id).replaceChildren();
    setText('balance-value', '…'); setText('balance-kind', '');
    writeHash();
    render();
    refreshNow();
  }

  function setView(view) {
    S.view = view === 'journal' ? 'journal' : 'inbox';
    writeHash();
    render();
    if (S.view === 'journal') refreshNow();
  }

  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    const account = p.get('account') || S.account || 'demo';
    if (account !== S.account) switchAccount(account);
    const mobile = p.get('mobile');
    const task = p.get('task');
    if (mobile) openConversation(mobile);
    else if (task && /^[0-9]+$/.test(task)) openTask(Number(task));
    const tab = p.get('tab');
    if (tab === 'numbers' || tab === 'tasks' || tab === 'feed') S.tab = tab;
    setView(p.get('view') || 'inbox');
  }

  function init() {
    $('account').addEventListener('change', (ev) => switchAccount(ev.target.value));
    for (const btn of document.querySelectorAll('.tab')) {
      btn.addEventListener('click', () => { S.tab = btn.dataset.tab; writeHash(); render(); refreshNow(); });
    }
    for (const btn of document.querySelectorAll('.view-btn')) btn.addEventListener('click', () => setView(btn.dataset.view));
    $('conv-close').addEventListener('click', closeDetail);
    $('task-close').addEventListener('click', closeDetail);
    $('reply-form').addEventListener('submit', sendReply);
    $('token-form').addEventListener('submit', useToken);
    $('reply-content').addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); $('reply-form').requestSubmit(); }
    });
    $('filter').addEventListener('input', (ev) => { S.filter = ev.target.value.trim(); render(); });
    $('journal-all').addEventListener('change', (ev) => {
      S.journal.all = ev.target.checked;
      S.journal.loaded = false;
      S.journal.entries = new Map();
      render();
      refreshNow();
    });
    document.addEventListener('visibilitychange', () => { if (!document.hidden) refreshNow(); });
    window.addEventListener('hashchange', readHash);
    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && document.activeElement && document.activeElement.tagName !== 'TEXTAREA') closeDetail();
    });
    readHash();
    if (!S.account) switchAccount('demo');
    refreshNow();
    stream();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
}());
