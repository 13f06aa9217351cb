// Shared by Warta's passkey and account pages: JSON calls, error messages, the
// passkey ceremonies, and starting a page's script on its page. Loaded after
// the @simplewebauthn/browser bundle (global SimpleWebAuthnBrowser).
(function () {
  'use strict';

  function messages(element) {
    try {
      return JSON.parse(element.dataset.messages || '{}');
    } catch (_) {
      return {};
    }
  }

  /** POST (or another method) JSON to Warta; a non-2xx answer rejects with the error code as `wartaCode`. */
  async function callJSON(path, body, method) {
    const response = await fetch(path, {
      method: method || 'POST',
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      const error = new Error((data && data.error_description) || response.statusText);
      error.wartaCode = (data && data.error) || 'generic';
      error.status = response.status;
      error.body = data;
      throw error;
    }
    return data;
  }

  /** The text to show for an error: Warta's code, then the WebAuthn DOMException name, then the server's description. */
  function describe(error, texts) {
    if (error && error.wartaCode && texts[error.wartaCode]) return texts[error.wartaCode];
    if (error && error.name && texts[error.name]) return texts[error.name];
    if (error && error.wartaCode && error.message) return error.message;
    return texts.generic || 'Error';
  }

  function setStatus(element, text, kind) {
    element.textContent = text;
    element.className = kind || '';
  }

  function showError(element, error, texts) {
    setStatus(element, describe(error, texts), 'error');
  }

  /**
   * The registration ceremony: `requestOptions` gets Warta's creation options, the
   * browser creates the passkey, and it goes to `verifyPath` with `body`.
   * Resolves to Warta's answer.
   */
  async function createPasskey(requestOptions, verifyPath, body) {
    const optionsJSON = await requestOptions();
    const credential = await window.SimpleWebAuthnBrowser.startRegistration({ optionsJSON: optionsJSON });
    return callJSON(verifyPath, Object.assign({ credential: credential }, body));
  }

  /** The re-authentication ceremony: a fresh passkey confirmation, for changes that need a recent one. */
  async function reauthenticate() {
    const optionsJSON = await callJSON('/api/webauthn/reauthentication/options', {});
    const credential = await window.SimpleWebAuthnBrowser.startAuthentication({ optionsJSON: optionsJSON });
    await callJSON('/api/webauthn/reauthentication/verify', { credential: credential });
  }

  /** After a ceremony that signed the user in: say so, then go where Warta's answer leads. */
  function finishSignIn(status, texts, result) {
    setStatus(status, texts.done || '', 'ok');
    window.location.assign(result.redirect_to);
  }

  /**
   * Wires a form that creates the user's passkey and signs them in with it
   * (enrollment, recovery). `proof()` (the invitation or the recovery grant, read
   * when the form is sent) goes to `paths.options`, and with the credential and
   * the form's name field to `paths.verify`. The button waits while it runs.
   */
  function wirePasskeyForm(form, page, paths, proof) {
    const button = form.querySelector('button[type=submit]');
    form.addEventListener('submit', async function (event) {
      event.preventDefault();
      button.disabled = true;
      setStatus(page.status, page.texts.working || '');
      try {
        const result = await createPasskey(
          function () {
            return callJSON(paths.options, proof());
          },
          paths.verify,
          Object.assign({ name: form.elements.name.value }, proof()),
        );
        finishSignIn(page.status, page.texts, result);
      } catch (error) {
        showError(page.status, error, page.texts);
        button.disabled = false;
      }
    });
  }

  /**
   * Starts a page script where its page is shown (the element `rootId` is there;
   * the account page's scripts also load elsewhere), handing it the root, the
   * texts given in the root's data-messages, and the `#status` line it reports
   * on; and Warta's page helpers, so no script reaches for the global itself.
   */
  function onPage(rootId, start) {
    const root = document.getElementById(rootId);
    if (root) start({ root: root, texts: messages(root), status: document.getElementById('status') }, window.Warta);
  }

  window.Warta = {
    callJSON: callJSON,
    messages: messages,
    describe: describe,
    setStatus: setStatus,
    showError: showError,
    createPasskey: createPasskey,
    reauthenticate: reauthenticate,
    finishSignIn: finishSignIn,
    wirePasskeyForm: wirePasskeyForm,
    onPage: onPage,
  };
})();
