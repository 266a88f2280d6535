// spoolweb in a real browser (headless Chromium through puppeteer-core), run by
// tests/e2e/t_browser.sh, which made the spool and checks the disk afterwards.
//
//   node browser.js admin|printer URL SPOOL OUTDIR
//
// It prints "ok DESC" / "not ok DESC" lines (the shell numbers them as TAP), "# ..."
// comments, and "= KEY VALUE" facts for the shell to check on disk.  The orders are
// the shell's fixtures: 1001 paid (queued, its jobs published), 1002 unpaid (Tomás
// Álvarez, placed 2026-11-21), 1003 in uploading (Mei Chen, 2026-11-22), 1004 unpaid
// (Zoë Weber, 2026-11-25).
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const puppeteer = require('puppeteer-core');

const [phase, BASE, SPOOL, OUT] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
let failed = 0;

function ok(cond, desc, why) {
	if (cond) {
		console.log(`ok ${desc}`);
	} else {
		failed++;
		console.log(`not ok ${desc}${why === undefined ? '' : ` (${why})`}`);
	}
	return cond;
}
const fact = (k, v) => console.log(`= ${k} ${v}`);

// step DESC FN: run one step; an exception is a failure of that step, not a crash
async function step(desc, fn) {
	try {
		await fn();
	} catch (e) {
		ok(false, desc, String(e && e.message || e).split('\n')[0]);
	}
}

// submit a form by clicking its submit button and wait for the page that comes back
async function submit(page, sel) {
	const [resp] = await Promise.all([
		page.waitForNavigation(),
		page.click(`${sel} [type=submit]`),
	]);
	return resp;
}

async function login(page, user, password) {
	await page.goto(`${BASE}/`);
	await page.type('#login input[name=user]', user);
	await page.type('#login input[name=password]', password);
	return submit(page, '#login');
}

const text = (page, sel) => page.$eval(sel, (e) => e.textContent.trim());
const rowIds = (page) => page.$$eval('#orders tr[data-id]', (rs) => rs.map((r) => r.dataset.id).sort());
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// filter the order list through the form, as a person would
async function filter(page, f) {
	await page.select('#filter select[name=state]', f.state || '');
	for (const k of ['since', 'until', 'q']) {
		await page.$eval(`#filter input[name=${k}]`, (e, v) => { e.value = v; }, f[k] || '');
	}
	await submit(page, '#filter');
	return rowIds(page);
}

// fetch inside the page, as its own scripts would (same cookie, same origin)
function pageFetch(page, url, init) {
	return page.evaluate(async (u, i) => {
		const r = await fetch(u, i || {});
		const u8 = new Uint8Array(await r.arrayBuffer());
		let s = '';
		for (let k = 0; k < u8.length; k += 0x8000)
			s += String.fromCharCode.apply(null, u8.subarray(k, k + 0x8000));
		return { status: r.status, type: r.headers.get('content-type'), b64: btoa(s) };
	}, url, init);
}

async function admin(browser) {
	const page = await browser.newPage();
	await step('admin logs in through the form', async () => {
		const resp = await login(page, 'alice', 'alice-pw');
		ok(resp.ok() && new URL(page.url()).pathname === '/orders', 'alice logs in and lands on /orders',
		    `${resp.status()} ${page.url()}`);
		ok((await text(page, '#whoami')).includes('alice'), '#whoami names her');
		const t = await page.$eval('meta[name=csrf-token]', (e) => e.content);
		ok(t.length >= 16, 'the page carries the CSRF token');
	});
	await step('the order list and its filters', async () => {
		let ids = await rowIds(page);
		ok(same(ids, ['1001', '1002', '1003', '1004']), 'the list shows the four orders', ids);
		const c = await page.$eval('#counts tr[data-state=unpaid] td.count', (e) => e.textContent.trim());
		ok(c === '2', '#counts: 2 unpaid', c);
		ids = await filter(page, { state: 'unpaid' });
		ok(same(ids, ['1002', '1004']), 'state=unpaid: 1002 1004', ids);
		ok(new URL(page.url()).searchParams.get('state') === 'unpaid', 'the filter is in the URL (GET form)', page.url());
		ids = await filter(page, { since: '2026-11-21', until: '2026-11-22' });
		ok(same(ids, ['1002', '1003']), 'since 2026-11-21 until 2026-11-22: 1002 1003', ids);
		ids = await filter(page, { q: 'chen' });
		ok(same(ids, ['1003']), 'q=chen: 1003', ids);
		ids = await filter(page, { state: 'unpaid', q: 'Álvarez' });
		ok(same(ids, ['1002']), 'state=unpaid and q=Álvarez: 1002', ids);
		const st = await text(page, '#orders tr[data-id="1002"] td.state');
		ok(/unpaid/i.test(st), 'its row says unpaid', st);
	});
	await step('an order opened from the list', async () => {
		await page.goto(`${BASE}/orders`);
		await Promise.all([page.waitForNavigation(), page.click('#orders tr[data-id="1002"] td.id a')]);
		ok(new URL(page.url()).pathname === '/orders/1002', 'the link opens /orders/1002', page.url());
		ok(/unpaid/i.test(await text(page, '#state')), '#state says unpaid');
		for (const t of ['#items', '#jobs', '#files', '#history'])
			ok(await page.$(t) !== null, `it has ${t}`);
		const names = await page.$$eval('form.transition', (fs) => fs.map((f) => f.dataset.name).sort());
		ok(same(names, ['cancel', 'pay']), 'one transition form per legal move: cancel, pay', names);
		const btn = await page.$eval('form.transition[data-name=pay] [type=submit]', (b) => b.textContent.trim());
		ok(btn === 'pay', "the button's text is the transition's name", btn);
	});
	await step('a transition button', async () => {
		const c = await page.$('form.transition[data-name=pay] [name=comment]');
		if (c)
			await c.type('money arrived');
		const resp = await submit(page, 'form.transition[data-name=pay]');
		ok(resp.ok() && new URL(page.url()).pathname === '/orders/1002', 'pay: back on /orders/1002',
		    `${resp.status()} ${page.url()}`);
		const st = await text(page, '#state');
		ok(/queued/i.test(st), '#state now says queued', st);
		fact('paid', '1002');
	});
	await step('a change on disk shows without reload', async () => {
		await page.goto(`${BASE}/orders/1004`);
		ok(/unpaid/i.test(await text(page, '#state')), '/orders/1004 says unpaid');
		ok(await page.$('[data-live]') !== null, 'the page has data-live elements');
		await page.evaluate(() => { window.notReloaded = true; });
		// the admin cancels the order by hand, in a shell
		execFileSync('sh', ['-c', 'mv "$1/state/unpaid/1004.order" "$1/state/cancelled/1004.order"', 'sh', SPOOL]);
		const t0 = Date.now();
		fact('moved', '1004 cancelled');
		let shown = true;
		try {
			await page.waitForFunction(() => /cancelled/i.test(document.querySelector('#state').textContent),
			    { timeout: 5000, polling: 20 });
		} catch (e) {
			shown = false;
		}
		const ms = Date.now() - t0;
		fact('live_ms', ms);
		ok(shown && ms <= 2000, `#state shows cancelled ${ms} ms after the mv (at most 2000)`,
		    shown ? undefined : 'not within 5 s');
		ok(await page.evaluate(() => window.notReloaded === true), 'without a reload');
	});
	await page.close();
}

async function printer(browser) {
	const page = await browser.newPage();
	const J = '1002-1-press';
	await step('printer logs in', async () => {
		const resp = await login(page, 'pete', 'pete-pw');
		ok(resp.ok() && new URL(page.url()).pathname === '/jobs', 'pete logs in and lands on /jobs',
		    `${resp.status()} ${page.url()}`);
		const rows = await page.$$eval('#jobs tr[data-job]', (rs) => rs.map((r) =>
		    [r.dataset.job, r.querySelector('td.queue').textContent.trim()]));
		fact('jobs', rows.map((r) => r[0]).sort().join(','));
		ok(rows.length > 0 && rows.every((r) => r[1] === 'press'), 'all the jobs listed are of queue press',
		    JSON.stringify(rows));
		ok(rows.some((r) => r[0] === J), `${J} is listed`);
		ok(!rows.some((r) => r[0] === '1001-1-covers'), 'the covers job is not');
	});
	await step('a job page', async () => {
		await Promise.all([page.waitForNavigation(), page.click(`#jobs tr[data-job="${J}"] td.job a`)]);
		ok(new URL(page.url()).pathname === `/jobs/${J}`, `the link opens /jobs/${J}`, page.url());
		const code = await page.$eval('#status', (e) => e.dataset.code);
		ok(code === '2', '#status is Queued (2)', code);
	});
	await step('a PDF downloaded in the page', async () => {
		const hrefs = await page.$$eval('ul#files a.file', (as) => as.map((a) => a.getAttribute('href')));
		const pdf = hrefs.find((h) => /\.pdf$/.test(h) && !/invoice\.pdf$/.test(h));
		ok(pdf && pdf.startsWith(`/api/jobs/${J}/files/`), 'ul#files links the print PDF', hrefs);
		const r = await pageFetch(page, pdf);
		ok(r.status === 200 && /^application\/pdf/.test(r.type), 'fetch gives 200 application/pdf', `${r.status} ${r.type}`);
		fs.writeFileSync(path.join(OUT, 'download.pdf'), Buffer.from(r.b64, 'base64'));
		fact('download', decodeURIComponent(pdf.split('/').pop()));
	});
	await step('CSRF', async () => {
		const body = JSON.stringify({ status: 15 });
		let r = await pageFetch(page, `/api/jobs/${J}/status`,
		    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
		ok(r.status === 403, 'a POST without X-CSRF-Token: 403', r.status);
		r = await pageFetch(page, `/api/jobs/${J}/status`,
		    { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': 'forged' }, body });
		ok(r.status === 403, 'with a forged one: 403', r.status);
		ok(await page.$eval('#status', (e) => e.dataset.code) === '2', 'the status is still 2');
	});
	await step('Processing through the form', async () => {
		await page.select('#status-form select[name=status]', '15');
		await page.type('#status-form textarea[name=message]', 'on the press');
		const resp = await submit(page, '#status-form');
		ok(resp.ok() && new URL(page.url()).pathname === `/jobs/${J}`, `back on /jobs/${J}`,
		    `${resp.status()} ${page.url()}`);
		const code = await page.$eval('#status', (e) => e.dataset.code);
		ok(code === '15', '#status is Processing (15)', code);
		fact('processing', J);
	});
	await step("another queue's job", async () => {
		let resp = await page.goto(`${BASE}/jobs/1001-1-covers`);
		ok(resp.status() === 403, '/jobs/1001-1-covers: 403', resp.status());
		const r = await pageFetch(page, '/api/jobs/1001-1-covers/files/job.xml');
		ok(r.status === 403, 'its job.xml through the API: 403', r.status);
		resp = await page.goto(`${BASE}/orders`);
		ok(resp.status() === 403, 'a printer opening /orders: 403', resp.status());
	});
	await page.close();
	await step('a wrong password', async () => {
		const ctx = await browser.createBrowserContext();
		const p = await ctx.newPage();
		const resp = await login(p, 'pete', 'not-his');
		ok(resp.status() === 401, 'the login page answers 401', resp.status());
		ok(await p.$('p#error[role=alert]') !== null, 'with p#error role=alert');
		ok(await p.$('#whoami') === null, 'and nobody is logged in');
		await ctx.close();
	});
}

(async () => {
	// the shell's budget is a minute: never hang past it
	setTimeout(() => { console.log('not ok browser.js finished within 45 s'); process.exit(1); }, 45000).unref();
	const browser = await puppeteer.launch({
		executablePath: CHROMIUM,
		args: ['--no-sandbox', '--headless=new'],
	});
	try {
		if (phase === 'admin')
			await admin(browser);
		else if (phase === 'printer')
			await printer(browser);
		else
			throw new Error(`unknown phase ${phase}`);
	} finally {
		await browser.close();
	}
	process.exitCode = failed ? 1 : 0;
})().catch((e) => {
	console.log(`not ok browser.js ${phase} ran (${String(e && e.message || e).split('\n')[0]})`);
	process.exitCode = 2;
});
