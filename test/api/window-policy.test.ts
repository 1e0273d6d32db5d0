// The Electron window's rules, as the plain functions index.ts wires in: which URLs are our page
// (origins compared parsed: the old prefix test let http://localhost:5173.evil.example in), which
// file an app:// request gets (never one outside out/renderer), and which links open outside.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { APP_PAGE_URL, appFileFor, appPageMatcher, externalLinkVerdict } from '../../src/main/hosts/window-policy.ts';
import { FUSES } from '../../scripts/electron-fuses.ts';

describe('Electron window policy', () => {
  it('knows the dev server\'s page by its origin, not by a prefix', () => {
    const isApp = appPageMatcher('http://localhost:5173');
    for (const url of ['http://localhost:5173/', 'http://localhost:5173/index.html#/runs/3', 'http://localhost:5173/@vite/client']) assert.ok(isApp(url), url);
    for (const url of [
      'http://localhost:5173.evil.example/',
      'http://localhost:51730/',
      'https://localhost:5173/',
      'http://user:pw@localhost:5173/',
      'http://127.0.0.1:5173/',
      'file:///index.html',
      'not a url',
      '',
    ]) {
      assert.ok(!isApp(url), `refused: ${url}`);
    }
    assert.throws(() => appPageMatcher('javascript:alert(1)'), /not an http\(s\) address/);
  });

  it('knows the built page as app://studio only', () => {
    const isApp = appPageMatcher(undefined);
    for (const url of [APP_PAGE_URL, 'app://studio/index.html#/datasets', 'app://studio/assets/index-abc.js']) assert.ok(isApp(url), url);
    for (const url of ['app://studio.evil/index.html', 'app://evil/index.html', 'app://x@studio/index.html', 'app://studio:1/index.html', 'file:///out/renderer/index.html', 'https://studio/']) {
      assert.ok(!isApp(url), `refused: ${url}`);
    }
  });

  describe('app:// file lookup', () => {
    let root: string;
    let outside: string;
    before(() => {
      outside = mkdtempSync(join(tmpdir(), 'cmi-protocol-'));
      root = join(outside, 'renderer');
      mkdirSync(join(root, 'assets'), { recursive: true });
      writeFileSync(join(root, 'index.html'), '<!doctype html>');
      writeFileSync(join(root, 'assets', 'app.js'), '');
      writeFileSync(join(outside, 'secret.txt'), 'not for the page');
    });
    after(() => rmSync(outside, { recursive: true, force: true }));

    it('maps the page and its assets into the renderer folder', () => {
      assert.equal(appFileFor(root, 'app://studio/'), join(root, 'index.html'));
      assert.equal(appFileFor(root, 'app://studio/index.html?x=1#/runs'), join(root, 'index.html'));
      assert.equal(appFileFor(root, 'app://studio/assets/app.js'), join(root, 'assets', 'app.js'));
      assert.equal(appFileFor(root, 'app://studio/assets/a%20b.js'), join(root, 'assets', 'a b.js'));
    });

    it('never leaves the renderer folder, and serves no other host', () => {
      for (const url of [
        'app://studio/../secret.txt',
        'app://studio/%2e%2e/secret.txt',
        'app://studio/..%2fsecret.txt',
        'app://studio/assets/..%2f..%2fsecret.txt',
        'app://studio/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      ]) {
        const file = appFileFor(root, url);
        assert.ok(file === null || file.startsWith(root + '/'), `${url} stays inside (got ${file})`);
        assert.notEqual(file, join(outside, 'secret.txt'), url);
      }
      for (const url of ['app://studio/..%5Csecret.txt', 'app://studio/a%00.js', 'app://studio/%E0%A4%A', 'app://other/index.html', 'file:///etc/passwd']) {
        assert.equal(appFileFor(root, url), null, url);
      }
    });
  });

  it('opens listed sites, asks for other https sites and refuses everything else', () => {
    for (const url of ['https://doi.org/10.1145/3477495.3531961', 'https://arxiv.org/abs/2301.00001', 'https://github.com/kuairand/KuaiRand', 'https://gist.github.com/x']) {
      assert.equal(externalLinkVerdict(url), 'open', url);
    }
    for (const url of ['https://github.com.evil.example/', 'https://evilgithub.com/', 'https://example.org/', 'https://github.com:8443/']) {
      assert.equal(externalLinkVerdict(url), 'ask', url);
    }
    for (const url of ['http://github.com/', 'https://github.com@evil.example/', 'file:///etc/passwd', 'javascript:alert(1)', 'ms-settings:', 'smb://host/share', 'nonsense']) {
      assert.equal(externalLinkVerdict(url), 'refuse', url);
    }
  });

  it('sets the fuses that can be set without breaking the training workers', () => {
    // Workers are this Electron binary run as Node (ELECTRON_RUN_AS_NODE): that fuse stays on.
    assert.equal(FUSES.RunAsNode.on, true);
    assert.equal(FUSES.EnableNodeOptionsEnvironmentVariable.on, false);
    assert.equal(FUSES.EnableNodeCliInspectArguments.on, false);
    assert.equal(FUSES.GrantFileProtocolExtraPrivileges.on, false);
    assert.equal(FUSES.EnableCookieEncryption.on, true);
    for (const [name, fuse] of Object.entries(FUSES)) assert.ok(fuse.why.length > 10, `${name} says why`);
  });
});
