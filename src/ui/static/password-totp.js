// Pages of src/passwords and src/totp: forms that call Warta's JSON API.
// A form with data-api is sent as JSON (fields named "_…" stay in the page);
// on success the browser goes to data-next, else the translated error shows.
(function () {
  'use strict';

  function translatedError(code) {
    var item = document.querySelector('#warta-errors [data-code="' + code + '"]') || document.querySelector('#warta-errors [data-code="generic"]');
    return item ? item.textContent : code;
  }

  function showMessage(target, code) {
    if (!target) return;
    target.textContent = translatedError(code);
    target.hidden = false;
  }

  function showError(form, code) {
    showMessage(form.querySelector('[data-error]'), code);
  }

  function clearError(container) {
    var target = container.querySelector('[data-error]');
    if (target) target.hidden = true;
  }

  async function callApi(method, url, payload) {
    var init = { method: method, credentials: 'same-origin', headers: { accept: 'application/json' } };
    if (payload !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(payload);
    }
    var response = await fetch(url, init);
    var body = {};
    try {
      body = await response.json();
    } catch (e) {
      body = {};
    }
    return { ok: response.ok, status: response.status, body: body };
  }

  function formPayload(form) {
    var payload = {};
    new FormData(form).forEach(function (value, name) {
      if (name.charAt(0) !== '_' && name !== 'password_repeat') payload[name] = value;
    });
    return payload;
  }

  function showSetup(setup) {
    var panel = document.getElementById('totp-setup');
    document.getElementById('totp-qr').src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(setup.qr_svg);
    document.getElementById('totp-secret').textContent = setup.secret;
    document.getElementById('totp-uri').textContent = setup.otpauth_uri;
    panel.hidden = false;
  }

  function reauthenticateFirst() {
    window.location.assign('/account/reauth?return_to=' + encodeURIComponent(window.location.pathname));
  }

  function wireForm(form, extraPayload) {
    form.addEventListener('submit', async function (event) {
      event.preventDefault();
      clearError(form);
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
      var repeat = form.elements.namedItem('password_repeat');
      if (repeat && repeat.value !== form.elements.namedItem('password').value) return showError(form, 'password_mismatch');
      var button = form.querySelector('button[type=submit]');
      if (button) button.disabled = true;
      try {
        var method = (form.dataset.method || 'POST').toUpperCase();
        var payload = method === 'DELETE' ? undefined : Object.assign(formPayload(form), extraPayload ? extraPayload() : {});
        var result = await callApi(method, form.dataset.api, payload);
        if (result.ok) {
          window.location.assign(form.dataset.next || result.body.redirect_to || '/account');
          return;
        }
        if (result.body.error === 'reauthentication_required') return reauthenticateFirst();
        showError(form, result.body.error || 'generic');
      } catch (e) {
        showError(form, 'generic');
      } finally {
        if (button) button.disabled = false;
      }
    });
  }

  var invitationToken;

  document.querySelectorAll('form[data-api]').forEach(function (form) {
    wireForm(form, form.id === 'password-enroll' ? function () { return { token: invitationToken }; } : undefined);
  });

  var start = document.getElementById('totp-start');
  if (start) {
    start.addEventListener('click', async function () {
      start.disabled = true;
      var result = await callApi('POST', start.dataset.api, {});
      start.disabled = false;
      if (!result.ok) {
        if (result.body.error === 'reauthentication_required') reauthenticateFirst();
        else showMessage(document.getElementById('totp-start-error'), result.body.error || 'generic');
        return;
      }
      showSetup(result.body);
      start.hidden = true;
      document.getElementById('totp-confirm').hidden = false;
      document.getElementById('code').focus();
    });
  }

  // Re-authentication with a passkey: the passkeys capability's ceremony, started from this page.
  var passkeyReauth = document.getElementById('passkey-reauth');
  if (passkeyReauth) {
    passkeyReauth.addEventListener('click', async function () {
      var failed = document.getElementById('passkey-reauth-error');
      failed.hidden = true;
      passkeyReauth.disabled = true;
      try {
        var options = await callApi('POST', '/api/webauthn/reauthentication/options', {});
        if (!options.ok) return showMessage(failed, options.body.error || 'generic');
        var credential = await window.SimpleWebAuthnBrowser.startAuthentication({ optionsJSON: options.body });
        var verified = await callApi('POST', '/api/webauthn/reauthentication/verify', { credential: credential });
        if (!verified.ok) return showMessage(failed, verified.body.error || 'generic');
        window.location.assign(passkeyReauth.dataset.next || '/account');
      } catch (e) {
        showMessage(failed, 'generic');
      } finally {
        passkeyReauth.disabled = false;
      }
    });
  }

  var enroll = document.getElementById('password-enroll');
  if (enroll) {
    var status = document.getElementById('enroll-status');
    var match = /(?:^|[#&])invitation=([A-Za-z0-9_-]+)/.exec(window.location.hash);
    if (!match) {
      status.textContent = status.dataset.noToken;
    } else {
      invitationToken = match[1];
      // Out of the address bar (and of screenshots, history and bookmarks) once read.
      history.replaceState(null, '', window.location.pathname + window.location.search);
      callApi('POST', '/api/enroll/password/start', { token: invitationToken }).then(function (result) {
        if (!result.ok) {
          status.textContent = translatedError(result.body.error || 'generic');
          status.className = 'error';
          return;
        }
        status.hidden = true;
        document.getElementById('enroll-name').textContent = result.body.display_name + ' (' + result.body.organisation + ')';
        document.getElementById('enroll-username').value = result.body.username;
        showSetup(result.body);
        enroll.hidden = false;
      }, function () {
        status.textContent = translatedError('generic');
      });
    }
  }
})();
