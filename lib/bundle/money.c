/*
 * What an order costs, from its order.xml: amounts in whole cents, never in floating
 * point, so that a line total is exactly quantity x unit price and a total is exactly
 * the sum of its lines.
 *
 * An item's price is its unit price (spool-layout(5), schemas/order.xsd); its line
 * total is computed.  The order's <tax> is an amount the store computed (with its own
 * rounding rules, which spool does not guess), added to the lines or, with
 * included="true", already in them.  When every item has a price, <total> must be the
 * lines plus the tax: submit refuses an order whose figures do not add up, so that an
 * invoice never prints a total its lines contradict.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../core/internal.h"

int
spool_money_parse(const char *s, long long *cents)
{
	long long v = 0;
	int digits = 0, frac = 0, neg = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	for (; *s >= '0' && *s <= '9'; s++, digits++)
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *s - '0', &v))
			return -1;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, frac++) {
			if (frac >= 2 && *s != '0')
				return -1;   /* a third decimal place that is not 0 */
			if (frac < 2 && (__builtin_mul_overflow(v, 10, &v) ||
			    __builtin_add_overflow(v, *s - '0', &v)))
				return -1;
		}
	if (digits + frac == 0)
		return -1;
	for (; frac < 2; frac++)
		if (__builtin_mul_overflow(v, 10, &v))
			return -1;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s != '\0' || v > SPOOL_MONEY_MAX || (neg && v != 0))
		return -1;
	*cents = v;
	return 0;
}

const char *
spool_money_fmt(long long cents, char *buf, size_t len)
{
	snprintf(buf, len, "%s%lld.%02lld", cents < 0 ? "-" : "", (cents < 0 ? -cents : cents) / 100,
	    (cents < 0 ? -cents : cents) % 100);
	return buf;
}

long long
spool_item_amount(const struct spool_item *it)
{
	long long unit, line;

	if (it->price[0] == '\0' || spool_money_parse(it->price, &unit) < 0 ||
	    __builtin_mul_overflow(unit, (long long)it->quantity, &line) || line > SPOOL_MONEY_MAX)
		return -1;
	return line;
}

int
spool_order_amounts(const struct spool_bundle *b, struct spool_amounts *a, struct spool_err *err)
{
	char x[32], y[32];
	long long line, sum;
	int i;

	memset(a, 0, sizeof *a);
	a->priced = b->nitems > 0;
	a->tax = a->total = -1;
	for (i = 0; i < b->nitems; i++) {
		if (b->items[i].price[0] == '\0') {
			a->priced = 0;
			continue;
		}
		if ((line = spool_item_amount(&b->items[i])) < 0 ||
		    __builtin_add_overflow(a->subtotal, line, &a->subtotal) ||
		    a->subtotal > SPOOL_MONEY_MAX)
			return failerr(err, ERANGE, "order.xml: item %s: quantity %d x price %s is "
			    "not an amount up to %s", b->items[i].id, b->items[i].quantity,
			    b->items[i].price, spool_money_fmt(SPOOL_MONEY_MAX, x, sizeof x));
	}
	if (b->tax[0] != '\0' && spool_money_parse(b->tax, &a->tax) < 0)
		return failerr(err, EINVAL, "order.xml: tax '%s' is not an amount", b->tax);
	if (b->total[0] != '\0' && spool_money_parse(b->total, &a->total) < 0)
		return failerr(err, EINVAL, "order.xml: total '%s' is not an amount", b->total);
	if (!a->priced)
		return 0;
	sum = a->subtotal + (a->tax > 0 && !b->tax_included ? a->tax : 0);
	if (b->tax_included && a->tax > a->subtotal)
		return failerr(err, EINVAL, "order.xml: the tax included in the prices, %s, is more "
		    "than their sum, %s", spool_money_fmt(a->tax, x, sizeof x),
		    spool_money_fmt(a->subtotal, y, sizeof y));
	if (a->total < 0)
		a->total = sum;
	else if (a->total != sum)
		return failerr(err, EINVAL, "order.xml: total %s is not the sum of the items' line "
		    "totals (quantity x unit price)%s: %s", spool_money_fmt(a->total, x, sizeof x),
		    a->tax >= 0 && !b->tax_included ? " and the tax" : "",
		    spool_money_fmt(sum, y, sizeof y));
	return 0;
}
