// Shared by Warta's passkey and account pages: JSON calls, error messages, and
// starting a page's script on its page. Loaded after
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
   * Starts a page script where its page is shown (the element `rootId` is there;
   * the account page's scripts also load elsewhere), handing it the root, the
   * texts given in the root's data-messages, and the `#status` line it reports on.
   */
  function onPage(rootId, start) {
    const root = document.getElementById(rootId);
    if (root) start({ root: root, texts: messages(root), status: document.getElementById('status') });
  }

  window.Warta = { callJSON: callJSON, messages: messages, describe: describe, setStatus: setStatus, showError: showError, onPage: onPage };
})();
