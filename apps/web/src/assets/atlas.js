// Atlas's one script. The pages work without it; it adds search as you type (keeping the address
// in step, so the back button and shared links show the same results), copying an alias, and "/" to
// jump to the search box. No framework, nothing from elsewhere.
(() => {
  const FRAGMENT = { 'X-Atlas-Fragment': 'results' };
  const TYPING_DELAY_MS = 250;

  /** The form's values as a query string, without empty fields, as the server reads them. */
  function queryOf(form) {
    const params = new URLSearchParams();
    const data = new FormData(form);
    const custom = data.get('joinable') === 'custom';
    // "A custom limit" counts once a limit is typed; until then the search is as before.
    const limit = String(data.get('joinable_limit') ?? '').trim();
    for (const [key, value] of data) {
      const text = String(value).trim();
      if (text === '') continue;
      if (key === 'joinable_limit' && !custom) continue;
      if (key === 'joinable' && custom && limit === '') continue;
      params.append(key, text);
    }
    params.sort();
    return params.toString();
  }

  function urlOf(form) {
    const query = queryOf(form);
    const action = new URL(form.action, location.href);
    return query ? `${action.pathname}?${query}` : action.pathname;
  }

  /** Sets the form's fields from an address (after back or forward). */
  function fillForm(form, url) {
    const params = new URL(url, location.href).searchParams;
    for (const element of form.elements) {
      if (!element.name) continue;
      const value = params.get(element.name);
      if (element.type === 'checkbox') element.checked = value === element.value;
      else if (element.tagName === 'SELECT') {
        const wanted = element.name === 'joinable' && value && value !== 'true' ? 'custom' : (value ?? '');
        const option = [...element.options].find((o) => o.value === wanted);
        if (option) element.value = wanted;
        else if (element.options.length > 0) element.selectedIndex = 0;
      } else if (element.type !== 'submit' && element.type !== 'button') element.value = value ?? '';
    }
  }

  function live(form) {
    const results = document.getElementById('results');
    if (!results) return;
    let timer = 0;
    let controller;
    let shown = urlOf(form);
    // While someone types, each pause updates one history entry instead of adding one per word.
    let typing = false;

    async function show(url, how) {
      controller?.abort();
      controller = new AbortController();
      const target = document.getElementById('results');
      target?.setAttribute('aria-busy', 'true');
      let response;
      try {
        response = await fetch(url, { headers: FRAGMENT, signal: controller.signal });
      } catch (error) {
        if (error.name === 'AbortError') return;
        location.assign(url);
        return;
      }
      if (!response.ok && response.status !== 400) {
        // Rate limits and errors get the server's own page.
        location.assign(url);
        return;
      }
      const html = await response.text();
      const fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('results');
      const current = document.getElementById('results');
      if (!fresh || !current) {
        location.assign(url);
        return;
      }
      current.replaceWith(document.importNode(fresh, true));
      if (how === 'push') history.pushState({ atlas: true }, '', url);
      else if (how === 'replace') history.replaceState({ atlas: true }, '', url);
      shown = url;
    }

    function update(now) {
      clearTimeout(timer);
      const run = () => {
        const url = urlOf(form);
        if (url === shown) return;
        show(url, typing ? 'replace' : 'push');
        typing = now === false;
      };
      if (now) run();
      else timer = setTimeout(run, TYPING_DELAY_MS);
    }

    form.addEventListener('input', (event) => {
      if (event.target.type === 'search' || event.target.type === 'number') update(false);
    });
    form.addEventListener('change', (event) => {
      if (event.target.type === 'search' || event.target.type === 'number') return;
      typing = false;
      update(true);
    });
    form.addEventListener('focusout', () => {
      typing = false;
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      typing = false;
      clearTimeout(timer);
      const url = urlOf(form);
      if (url !== shown) show(url, 'push');
    });
    window.addEventListener('popstate', () => {
      const url = location.pathname + location.search;
      fillForm(form, url);
      typing = false;
      show(url, 'none');
    });
  }

  function copyButtons() {
    for (const button of document.querySelectorAll('button[data-copy]')) {
      if (!navigator.clipboard) continue;
      button.hidden = false;
      const label = button.textContent;
      button.addEventListener('click', async () => {
        try {
          await navigator.clipboard.writeText(button.dataset.copy ?? '');
          button.textContent = button.dataset.copied ?? label;
        } catch {
          button.textContent = button.dataset.copyFailed ?? label;
        }
        setTimeout(() => {
          button.textContent = label;
        }, 2000);
      });
    }
  }

  function slashToSearch() {
    const box = document.getElementById('q');
    if (!box) return;
    document.addEventListener('keydown', (event) => {
      if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target;
      if (
        target instanceof HTMLElement &&
        (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))
      ) {
        return;
      }
      event.preventDefault();
      box.focus();
      box.select();
    });
  }

  for (const form of document.querySelectorAll('form[data-live]')) live(form);
  copyButtons();
  slashToSearch();
})();
