/*
 * spoolweb's only script.  Pages work without it; it keeps the parts of a page marked
 * data-live current: once a second it fetches the page again (a 304 when nothing
 * changed) and puts in the new contents of each part that differs, unless the person
 * is typing in that part.
 */
(function () {
	'use strict';
	if (!document.querySelector('[data-live]'))
		return;
	var etag = null;

	function swap(html) {
		var fresh = new DOMParser().parseFromString(html, 'text/html');
		document.querySelectorAll('[data-live]').forEach(function (el) {
			var next = fresh.getElementById(el.id);
			if (next && next.innerHTML !== el.innerHTML && !el.contains(document.activeElement))
				el.innerHTML = next.innerHTML;
		});
	}

	function tick() {
		var headers = etag ? { 'If-None-Match': etag } : {};
		fetch(location.href, { headers: headers, credentials: 'same-origin', cache: 'no-store' })
			.then(function (res) {
				if (res.status !== 200 || res.redirected)
					return null;
				etag = res.headers.get('ETag');
				return res.text();
			})
			.then(function (html) {
				if (html)
					swap(html);
			})
			.catch(function () { /* the server restarts: try again next time */ })
			.then(function () {
				setTimeout(tick, 1000);
			});
	}
	setTimeout(tick, 1000);
})();
