// Package outbound is Sluice's policy for the HTTP requests a release object
// makes it send: webhook hooks and metric provider queries. Their URLs come
// from whoever may create a Canary or BlueGreen, so they are untrusted input;
// without a policy they would let a namespace user borrow the operator's
// network position (server-side request forgery).
//
// A Policy refuses, by default, connections to loopback, link-local,
// unspecified and multicast addresses and to the well-known cloud metadata
// addresses. The check runs on the address actually dialled (in the dialer's
// Control hook, after name resolution), so a name that resolves to a refused
// address is refused too, however its DNS answers change between two
// lookups. An operator-level allow list exempts CIDRs from the defaults
// (a laptop user allows loopback) and a deny list refuses more; a denied
// address is refused even when an allowed CIDR also covers it.
//
// Clients built here never follow redirects: a 3xx answer is an error that
// names its status and nothing else, so a redirect can neither reach another
// host nor carry credentials there, and no text from anywhere but the host
// that was asked ends up in status. Text that is echoed into status goes
// through Excerpt first.
package outbound
