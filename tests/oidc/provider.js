'use strict';
/*
 * A real OpenID Connect provider for the tests, on a loopback address: oidc-provider 8 with its
 * development login form, which accepts any login name and any password.
 *
 *   node tests/oidc/provider.js [PORT]
 *
 * Settings come from the environment (PORT 0, the default, takes any free port):
 *   OIDC_HOST            address and issuer host, default 127.0.0.1
 *   OIDC_PORT            port when none is given as the first argument, default 0
 *   OIDC_CLIENT_ID       the one client's id, default pcn-maturity-tests
 *   OIDC_CLIENT_SECRET   its secret, default pcn-maturity-tests-secret
 *   OIDC_REDIRECT_URIS   its redirect URIs, comma or space separated, default
 *                        http://127.0.0.1/oauth2callback; Streamlit sends the same URI as its
 *                        post-logout redirect URI, so each is registered as both
 *   OIDC_ANY_PORT        1 (default): a registered http loopback URI matches on any port, as
 *                        RFC 8252 section 7.3 allows, so one provider serves apps on any port; 0: exact
 *   OIDC_TOKEN_AUTH      token_endpoint_auth_method, default client_secret_basic (Authlib's default)
 *
 * Once it listens it prints one line on stdout, and nothing else there (logs go to stderr):
 *   OIDC_PROVIDER_READY http://127.0.0.1:PORT
 *
 * Signing in as "jane.smith@nhs.net" gives sub and email "jane.smith@nhs.net" and name "Jane Smith".
 *
 * oidc-provider is ESM-only and is installed by npm in tests/browser/node_modules (next to axe-core,
 * from tests/browser/package.json). ESM ignores NODE_PATH, so this script resolves the package from
 * that folder itself and loads it with import(); no NODE_PATH or second node_modules is needed.
 */
const crypto = require('node:crypto');
const http = require('node:http');
const path = require('node:path');
const { createRequire } = require('node:module');
const { pathToFileURL } = require('node:url');

const PACKAGE_JSON = path.resolve(__dirname, '..', 'browser', 'package.json');
const LOOPBACKS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function setting(name, fallback) {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

/** "jane.smith@nhs.net" -> "Jane Smith"; "lead@nhs.net" -> "Lead". */
function displayName(login) {
  const words = login.split('@')[0].split(/[._+-]+/).filter(Boolean);
  if (!words.length) return login;
  return words.map((w) => w[0].toUpperCase() + w.slice(1).toLowerCase()).join(' ');
}

function claimsFor(login) {
  const name = displayName(login);
  const parts = name.split(' ');
  return {
    sub: login,
    email: login,
    email_verified: true,
    name,
    given_name: parts[0],
    family_name: parts.length > 1 ? parts.slice(1).join(' ') : undefined,
    preferred_username: login,
  };
}

/** Is `value` one of `registered`, ignoring the port when both are http loopback URIs? */
function loopbackMatch(value, registered) {
  let wanted;
  try {
    wanted = new URL(value);
  } catch {
    return false;
  }
  if (wanted.protocol !== 'http:' || !LOOPBACKS.has(wanted.hostname)) return false;
  wanted.port = '';
  return registered.some((uri) => {
    try {
      const allowed = new URL(uri);
      allowed.port = '';
      return allowed.href === wanted.href;
    } catch {
      return false;
    }
  });
}

/** A plain page with no fonts or scripts from elsewhere. */
function page(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>`
    + `<body><main><h1>${title}</h1>${body}</main></body></html>`;
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function main() {
  const resolved = createRequire(PACKAGE_JSON).resolve('oidc-provider');
  const oidc = await import(pathToFileURL(resolved).href);
  const { Provider, interactionPolicy: { base, Prompt, Check } } = oidc;

  const host = setting('OIDC_HOST', '127.0.0.1');
  const port = Number(process.argv[2] ?? setting('OIDC_PORT', '0'));
  const redirectUris = setting('OIDC_REDIRECT_URIS', 'http://127.0.0.1/oauth2callback')
    .split(/[\s,]+/).filter(Boolean);
  const anyPort = setting('OIDC_ANY_PORT', '1') !== '0';

  // Streamlit asks for prompt=select_account, which oidc-provider rejects unless a prompt of that
  // name is registered. Register it without checks of its own and let it show the login form
  // again, as an account chooser would: each st.login() then meets the same form.
  const policy = base();
  policy.get('login').checks.add(new Check(
    'select_account_requested',
    'the client asked the End-User to choose an account',
    'login_required',
    (ctx) => (ctx.oidc.prompts.has('select_account') && !ctx.oidc.result?.login
      ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT),
  ));
  const selectAccount = new Prompt({ name: 'select_account', requestable: true });
  selectAccount.checks.clear();
  policy.add(selectAccount);

  const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    .export({ format: 'jwk' });

  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${server.address().port}`;

  const provider = new Provider(issuer, {
    clients: [{
      client_id: setting('OIDC_CLIENT_ID', 'pcn-maturity-tests'),
      client_secret: setting('OIDC_CLIENT_SECRET', 'pcn-maturity-tests-secret'),
      redirect_uris: redirectUris,
      post_logout_redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: setting('OIDC_TOKEN_AUTH', 'client_secret_basic'),
    }],
    async findAccount(ctx, id) {
      return { accountId: id, async claims() { return claimsFor(id); } };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    },
    // Streamlit's st.user is the ID token's claims (Authlib does not call the userinfo endpoint),
    // so the ID token carries the email and profile claims too.
    conformIdTokenClaims: false,
    interactions: { policy },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource(ctx, form) {
          ctx.body = page('Sign out', `${form}<button autofocus type="submit" form="op.logoutForm"`
            + ' value="yes" name="logout">Yes, sign me out</button>'
            + '<button type="submit" form="op.logoutForm">No, stay signed in</button>');
        },
        postLogoutSuccessSource(ctx) {
          ctx.body = page('Signed out', '<p>You are signed out.</p>');
        },
      },
    },
    pkce: { required: () => true }, // Streamlit sends S256, as the discovery document offers
    jwks: { keys: [{ ...signingKey, kid: 'tests', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Sign-in error', Object.entries(out)
        .map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</p>`).join(''));
    },
  });

  if (anyPort) {
    const { prototype } = provider.Client;
    const redirectAllowed = prototype.redirectUriAllowed;
    const logoutAllowed = prototype.postLogoutRedirectUriAllowed;
    prototype.redirectUriAllowed = function redirectUriAllowed(value) {
      return redirectAllowed.call(this, value) || loopbackMatch(value, this.redirectUris);
    };
    prototype.postLogoutRedirectUriAllowed = function postLogoutRedirectUriAllowed(value) {
      return logoutAllowed.call(this, value) || loopbackMatch(value, this.postLogoutRedirectUris || []);
    };
  }

  // The development pages @import a web font from the internet: drop that, so a test browser
  // never reaches beyond this machine. Log each request on stderr.
  provider.use(async (ctx, next) => {
    await next();
    if (typeof ctx.body === 'string' && ctx.response.is('html')) {
      ctx.body = ctx.body.replace(/@import url\([^)]*\);?/g, '');
    }
    console.error(`${ctx.method} ${ctx.path} ${ctx.status}`);
  });
  for (const event of ['server_error', 'authorization.error', 'grant.error', 'end_session.error',
    'userinfo.error', 'jwks.error', 'discovery.error']) {
    provider.on(event, (...args) => console.error(event, ...args.filter((a) => a instanceof Error)));
  }

  server.on('request', provider.callback());
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // keep-alive sockets would hold close() open
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`OIDC_PROVIDER_READY ${issuer}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
