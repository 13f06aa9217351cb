// First-run setup page: reads the setup token from the URL fragment (never sent
// to any server by the browser), creates the first organisation and its admin's
// invitation, then goes straight to that invitation's passkey enrollment.
'use strict';
window.Warta.onPage('setup', function (page, warta) {
  const { texts, status } = page;
  const form = document.getElementById('setup-form');
  const button = document.getElementById('setup-submit');

  const match = /(?:^#|&)token=([A-Za-z0-9_-]{16,128})/.exec(window.location.hash);
  if (!match) {
    warta.setStatus(status, texts.no_token, 'error');
    return;
  }
  const token = match[1];
  // Keep the token out of the address bar and the history once read.
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  button.disabled = false;

  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    button.disabled = true;
    warta.setStatus(status, texts.working);
    const field = (name) => form.elements[name].value.trim();
    const domains = field('email_domains')
      .split(/[\s,;]+/)
      .filter(Boolean);
    try {
      const result = await warta.callJSON('/api/setup', {
        token: token,
        organisation_name: field('organisation_name'),
        email_domains: domains.length ? domains : undefined,
        display_name: field('display_name'),
        email: field('email') || undefined,
        employee_id: field('employee_id') || undefined,
      });
      warta.setStatus(status, texts.done, 'ok');
      window.location.assign(result.enrollment_url);
    } catch (error) {
      warta.showError(status, error, texts);
      // A used, expired or replaced link stays refused: only a form mistake is worth another try.
      if (error.status < 404 || error.status === 429) button.disabled = false;
    }
  });
});
