// Package safehttp makes outbound HTTP requests to URLs that people, not
// the host, chose: bot webhooks, and link previews. Such a URL must not
// become a way into the host's own network (server-side request forgery),
// so the client built here checks the address it actually dials, after
// DNS resolution, and refuses every address that is not public unicast,
// unless the host named its network in [Options.Allow]. It follows no
// redirect and takes no proxy from the environment, since both would move
// the real destination past the check.
package safehttp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrRefused is the error a refused destination wraps, whether the dialer
// refused the address or [Options.CheckHost] refused the URL's host.
var ErrRefused = errors.New("safehttp: destination refused")

// ErrTooLarge is the error a body read past [Options.MaxResponseBytes]
// returns.
var ErrTooLarge = errors.New("safehttp: response too large")

// Defaults for the zero values of [Options].
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxResponseBytes = 1 << 20
	// maxResponseHeaderBytes bounds an answer's header: webhooks and link
	// previews need little, and the standard 1 MiB invites waste.
	maxResponseHeaderBytes = 64 << 10
)

// Options configure the client. The zero value refuses every internal
// address, with the default timeout and size limit.
type Options struct {
	// Allow names networks that may be dialled although they are not
	// public (a bot host on the private network, a test's stub on
	// 127.0.0.1). An address is allowed when a prefix contains it, or its
	// IPv4 form when it is an IPv4-mapped IPv6 address. Nil: none.
	Allow []netip.Prefix

	// Timeout bounds a whole exchange, from dialling to the last byte of
	// the answer. Zero: [DefaultTimeout].
	Timeout time.Duration

	// MaxResponseBytes bounds an answer's body: reading more fails with
	// [ErrTooLarge], and an answer that announces more is refused before
	// its body is read. Zero: [DefaultMaxResponseBytes].
	MaxResponseBytes int64
}

// Permits reports whether the dialer may connect to addr: it is public
// (see [Internal]), or in a network of o.Allow.
func (o Options) Permits(addr netip.Addr) bool {
	addr = addr.WithZone("")
	if !Internal(addr) {
		return true
	}
	for _, p := range o.Allow {
		if p.Contains(addr) || p.Contains(addr.Unmap()) {
			return true
		}
	}
	return false
}

// Internal reports whether addr is anything but a public unicast address:
// loopback, private (RFC 1918, fc00::/7), shared (100.64.0.0/10),
// link-local, unspecified, multicast, broadcast, documentation,
// benchmarking and the other special-purpose and reserved ranges; and
// also an IPv6 address that wraps one of those: IPv4-mapped
// (::ffff:127.0.0.1), IPv4-compatible, NAT64 (64:ff9b::/96, whose IPv4
// address is checked; the local-use 64:ff9b:1::/48 is refused whole),
// 6to4 (2002::/16, checked likewise) and Teredo (2001::/32, refused with
// the rest of 2001::/23). Of IPv6 only global unicast (2000::/3) is
// public.
func Internal(addr netip.Addr) bool {
	addr = addr.WithZone("").Unmap()
	switch {
	case !addr.IsValid():
		return true
	case addr.Is4():
		return inAny(addr, internal4)
	case nat64.Contains(addr):
		b := addr.As16()
		return Internal(netip.AddrFrom4([4]byte(b[12:16])))
	case sixToFour.Contains(addr):
		b := addr.As16()
		return Internal(netip.AddrFrom4([4]byte(b[2:6])))
	case !globalUnicast6.Contains(addr):
		return true
	default:
		return inAny(addr, internal6)
	}
}

// internal4 are the IPv4 networks that are not public unicast (IANA's
// special-purpose registry, multicast and the reserved 240/4).
var internal4 = prefixes(
	"0.0.0.0/8",       // "this network", 0.0.0.0 included
	"10.0.0.0/8",      // private
	"100.64.0.0/10",   // shared address space (carrier-grade NAT)
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, cloud metadata services
	"172.16.0.0/12",   // private
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation
	"192.88.99.0/24",  // 6to4 relay anycast
	"192.168.0.0/16",  // private
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation
	"203.0.113.0/24",  // documentation
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, 255.255.255.255 broadcast included
)

var (
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	nat64          = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	// internal6 are the special ranges inside global unicast.
	internal6 = prefixes(
		"2001::/23",     // IETF protocol assignments: Teredo, benchmarking, ORCHID
		"2001:db8::/32", // documentation
		"3fff::/20",     // documentation
	)
)

func prefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

func inAny(addr netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// refused is the error for a destination o does not permit.
func refused(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrRefused}, args...)...)
}

// control is the dialer's hook between creating a socket and connecting
// it: address is the resolved IP and port, so a name that resolves inside
// is refused as its address would be.
func (o Options) control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return refused("network %s", network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return refused("address %q", address)
	}
	if !o.Permits(ap.Addr()) {
		return refused("%s is not a public address", ap.Addr())
	}
	return nil
}

// NewDialer returns a TCP dialer that refuses, before connecting, every
// address o does not permit. Each address a name resolves to is checked
// as it is tried, so a name with both kinds connects only to a permitted
// one.
func NewDialer(o Options) *net.Dialer {
	return &net.Dialer{
		Timeout:   o.timeout(),
		KeepAlive: 30 * time.Second,
		Control:   o.control,
	}
}

// NewTransport returns a transport that dials with [NewDialer] and never
// uses a proxy: a proxy would be the only address checked, and would then
// reach the destination on the caller's behalf.
func NewTransport(o Options) *http.Transport {
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            NewDialer(o).DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  o.timeout(),
		ExpectContinueTimeout:  1 * time.Second,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
	}
}

// NewClient returns a client over [NewTransport] with o's timeout and body
// limit, that follows no redirect: it returns the 3xx answer itself, which
// callers treat as a failure. A redirect is how a public host sends a
// client on to an internal one, and a client that checks each hop still
// lets the first host choose where it goes.
func NewClient(o Options) *http.Client {
	return &http.Client{
		Transport: &limitedTransport{base: NewTransport(o), max: o.maxResponseBytes()},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: o.timeout(),
	}
}

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

func (o Options) maxResponseBytes() int64 {
	if o.MaxResponseBytes > 0 {
		return o.MaxResponseBytes
	}
	return DefaultMaxResponseBytes
}

// CheckHost refuses, with an error wrapping [ErrRefused], a URL's host (as
// [net/url.URL.Hostname] gives it) that names an address o does not
// permit without asking DNS: an IP literal ("::1", "169.254.169.254"),
// "localhost" and names under it, and any host that ends in a number but
// is not an IPv4 address in dotted decimal, since resolvers and browsers
// read "2130706433", "0x7f.1", "127.1" and "0177.0.0.1" as addresses. It
// also refuses characters outside ASCII letters, digits, '-', '_' and
// '.', as other scripts can spell digits and dots (punycode spells other
// names). It is a first check with a clear message when a URL is saved;
// the guarantee is the dialer's, which also catches names that resolve
// inside.
func (o Options) CheckHost(host string) error {
	if addr, err := netip.ParseAddr(host); err == nil {
		if addr.Zone() != "" {
			return refused("%s names a network interface", host)
		}
		if !o.Permits(addr) {
			return refused("%s is not a public address", addr.WithZone(""))
		}
		return nil
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != "" {
		return refused("host %q is not a plain host name", host)
	}
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		if !o.Permits(netip.IPv6Loopback()) && !o.Permits(netip.AddrFrom4([4]byte{127, 0, 0, 1})) {
			return refused("%s is a loopback name", host)
		}
		return nil
	}
	if addr, err := netip.ParseAddr(name); err == nil && addr.Is4() {
		return o.CheckHost(addr.String()) // a dotted quad with a final dot
	}
	if endsInNumber(name) {
		return refused("host %q reads as an IPv4 address; write it as four decimal numbers", host)
	}
	return nil
}

// endsInNumber is the WHATWG URL standard's test for a host that parsers
// read as IPv4: its last label is decimal digits, or 0x and hex digits.
func endsInNumber(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if last == "" {
		return false
	}
	if h, ok := strings.CutPrefix(last, "0x"); ok {
		return strings.Trim(h, "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// limitedTransport bounds the bodies of the answers its base returns.
type limitedTransport struct {
	base *http.Transport
	max  int64
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if res.ContentLength > t.max {
		res.Body.Close()
		return nil, fmt.Errorf("%w: %d bytes announced", ErrTooLarge, res.ContentLength)
	}
	res.Body = &limitedBody{body: res.Body, left: t.max}
	return res, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// base transport.
func (t *limitedTransport) CloseIdleConnections() { t.base.CloseIdleConnections() }

// limitedBody reads up to left bytes, then fails with ErrTooLarge if the
// body has more.
type limitedBody struct {
	body io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		n, err := b.body.Read(one[:])
		if n > 0 {
			return 0, ErrTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.body.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.body.Close() }
