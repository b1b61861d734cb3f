package safehttp_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/opencampfire/campfire/internal/safehttp"
)

func TestInternal(t *testing.T) {
	internal := []string{
		"0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.255",
		"127.0.0.1", "127.255.255.254", "169.254.169.254", "172.16.0.1", "172.31.255.255",
		"192.0.0.8", "192.0.2.1", "192.88.99.1", "192.168.0.1", "198.18.0.1", "198.19.255.255",
		"198.51.100.1", "203.0.113.1", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
		"::", "::1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
		"::ffff:0:127.0.0.1", "64:ff9b::127.0.0.1", "64:ff9b::10.1.2.3", "64:ff9b::169.254.169.254",
		"64:ff9b:1::1", "64:ff9b:1::8.8.8.8", "100::1", "2001::1", "2001:0:4136:e378:8000:63bf:80ff:fffe",
		"2001:2::1", "2001:db8::1", "2002:7f00:1::1", "2002:c0a8:101::1", "2002:a9fe:a9fe::1",
		"3fff::1", "fc00::1", "fd00:ec2::254", "fe80::1", "fe80::1%eth0", "fec0::1", "ff02::1", "ff05::2",
	}
	public := []string{
		"1.1.1.1", "8.8.8.8", "93.184.215.14", "100.63.255.255", "100.128.0.0", "172.15.255.255",
		"172.32.0.0", "192.0.1.1", "192.169.0.1", "198.17.255.255", "198.20.0.0", "223.255.255.255",
		"::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1", "2606:4700:4700::1111",
		"2a00:1450:4001::200e", "2600::1",
	}
	for _, s := range internal {
		if !safehttp.Internal(netip.MustParseAddr(s)) {
			t.Errorf("Internal(%s) = false, want true", s)
		}
	}
	for _, s := range public {
		if safehttp.Internal(netip.MustParseAddr(s)) {
			t.Errorf("Internal(%s) = true, want false", s)
		}
	}
	if !safehttp.Internal(netip.Addr{}) {
		t.Error("Internal of the zero Addr = false")
	}
}

func TestPermits(t *testing.T) {
	o := safehttp.Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("fd00:1::/64")}}
	for s, want := range map[string]bool{
		"127.0.0.1": true, "127.9.9.9": true, "::ffff:127.0.0.1": true, "fd00:1::5": true,
		"8.8.8.8": true, "10.0.0.1": false, "::1": false, "fd00:2::5": false, "169.254.169.254": false,
	} {
		if got := o.Permits(netip.MustParseAddr(s)); got != want {
			t.Errorf("Permits(%s) = %v, want %v", s, got, want)
		}
	}
}

func TestCheckHost(t *testing.T) {
	refused := []string{
		"", "::1", "::", "::ffff:127.0.0.1", "fe80::1%eth0", "2606:4700::1111%eth0", "localhost", "LOCALHOST", "localhost.",
		"a.b.localhost", "127.0.0.1", "127.0.0.1.", "169.254.169.254", "0.0.0.0", "0", "2130706433",
		"0x7f.1", "0x7f000001", "0X7F.0.0.1", "127.1", "127.0.1", "0177.0.0.1", "017700000001",
		"10.0.0.1", "192.168.1.1", "example.0x", "bots.example.123", "1.2.3", "256.1.1.1",
		"１２７.０.０.１", "exa mple.com", "bots.example.com\u00a0", "ex%41mple.com",
	}
	accepted := []string{
		"example.com", "bots.example.com", "bots.example.com.", "x1.example", "0x.example.com",
		"123.example.com", "a_b.example.com", "93.184.215.14", "2606:4700::1111", "64:ff9b::8.8.8.8",
	}
	var o safehttp.Options
	for _, h := range refused {
		if err := o.CheckHost(h); !errors.Is(err, safehttp.ErrRefused) {
			t.Errorf("CheckHost(%q) = %v, want ErrRefused", h, err)
		}
	}
	for _, h := range accepted {
		if err := o.CheckHost(h); err != nil {
			t.Errorf("CheckHost(%q) = %v, want nil", h, err)
		}
	}
	open := safehttp.Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	for _, h := range []string{"127.0.0.1", "127.2.3.4", "localhost", "::ffff:127.0.0.1"} {
		if err := open.CheckHost(h); err != nil {
			t.Errorf("with 127.0.0.0/8 allowed, CheckHost(%q) = %v", h, err)
		}
	}
	for _, h := range []string{"::1", "10.0.0.1", "2130706433", "127.1"} {
		if err := open.CheckHost(h); !errors.Is(err, safehttp.ErrRefused) {
			t.Errorf("with 127.0.0.0/8 allowed, CheckHost(%q) = %v, want ErrRefused", h, err)
		}
	}
}

// stub serves h on 127.0.0.1 and counts its requests.
func stub(t *testing.T, h http.HandlerFunc) (*httptest.Server, chan string) {
	t.Helper()
	hits := make(chan string, 100)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits <- r.URL.Path
		h(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts, hits
}

func hello(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }

var loopback4 = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// TestDialRefusesInternalAddresses: the check is on the address dialled,
// so a name that resolves to loopback is refused as the literal is, before
// any connection; the same stub answers once its network is allowed.
func TestDialRefusesInternalAddresses(t *testing.T) {
	ts, hits := stub(t, hello)
	port := mustURL(t, ts.URL).Port()
	client := safehttp.NewClient(safehttp.Options{})
	for _, u := range []string{
		ts.URL + "/a",
		"http://localhost:" + port + "/b",
		"http://[::1]:" + port + "/c",
		"http://[::ffff:127.0.0.1]:" + port + "/d",
		"http://0.0.0.0:" + port + "/e",
		"http://169.254.169.254/latest/meta-data/",
		"http://10.20.30.40/",
	} {
		res, err := client.Get(u)
		if err == nil {
			res.Body.Close()
		}
		if !errors.Is(err, safehttp.ErrRefused) {
			t.Errorf("GET %s: %v, want ErrRefused", u, err)
		}
	}
	select {
	case p := <-hits:
		t.Fatalf("the stub was reached (%s)", p)
	default:
	}

	allowed := safehttp.NewClient(safehttp.Options{Allow: loopback4})
	res, err := allowed.Get(ts.URL + "/ok")
	if err != nil {
		t.Fatalf("GET with 127.0.0.1/32 allowed: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "hello" {
		t.Fatalf("body %q", b)
	}
	// Only the network named: [::1] stays refused.
	if _, err := allowed.Get("http://[::1]:" + port + "/"); !errors.Is(err, safehttp.ErrRefused) {
		t.Fatalf("GET [::1] with only 127.0.0.1/32 allowed: %v, want ErrRefused", err)
	}
	d := safehttp.NewDialer(safehttp.Options{})
	if _, err := d.DialContext(t.Context(), "tcp", "localhost:"+port); !errors.Is(err, safehttp.ErrRefused) {
		t.Fatalf("dial localhost: %v, want ErrRefused", err)
	}
}

// TestRedirectsAreNotFollowed: the 3xx itself is the answer; its target is
// never fetched, even where the dialer would allow it.
func TestRedirectsAreNotFollowed(t *testing.T) {
	target, targetHits := stub(t, hello)
	for _, status := range []int{301, 302, 303, 307, 308} {
		from, _ := stub(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/secret", status)
		})
		res, err := safehttp.NewClient(safehttp.Options{Allow: loopback4}).Post(from.URL, "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		res.Body.Close()
		if res.StatusCode != status {
			t.Fatalf("status %d, want the %d itself", res.StatusCode, status)
		}
	}
	select {
	case p := <-targetHits:
		t.Fatalf("a redirect was followed to %s", p)
	default:
	}
}

// TestProxyEnvironmentIgnored: a proxy would be the only address checked,
// so none is taken from the environment.
func TestProxyEnvironmentIgnored(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns := make(chan string, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c.RemoteAddr().String()
			c.Close()
		}
	}()
	for _, v := range []string{"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"} {
		t.Setenv(v, "http://"+ln.Addr().String())
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	// The proxy is on an allowed network: only the environment could send
	// the request there.
	client := safehttp.NewClient(safehttp.Options{Allow: loopback4})
	for _, u := range []string{"http://10.20.30.40/", "https://10.20.30.40/"} {
		_, err := client.Get(u)
		if !errors.Is(err, safehttp.ErrRefused) {
			t.Errorf("GET %s: %v, want ErrRefused for 10.20.30.40 itself", u, err)
		}
	}
	select {
	case from := <-conns:
		t.Fatalf("the proxy from the environment was used (connection from %s)", from)
	default:
	}
}

func TestResponseLimits(t *testing.T) {
	const limit = 1000
	ts, _ := stub(t, func(w http.ResponseWriter, r *http.Request) {
		n := limit
		switch r.URL.Path {
		case "/over":
			n = limit + 1
		case "/announced":
			w.Header().Set("Content-Length", "5000")
			n = 5000
		}
		if r.URL.Path != "/announced" {
			w.(http.Flusher).Flush() // chunked: no length announced
		}
		w.Write([]byte(strings.Repeat("x", n)))
	})
	client := safehttp.NewClient(safehttp.Options{Allow: loopback4, MaxResponseBytes: limit})

	res, err := client.Get(ts.URL + "/exact")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || len(b) != limit {
		t.Fatalf("a body of exactly the limit: %d bytes, %v", len(b), err)
	}

	res, err = client.Get(ts.URL + "/over")
	if err != nil {
		t.Fatal(err)
	}
	b, err = io.ReadAll(res.Body)
	res.Body.Close()
	if !errors.Is(err, safehttp.ErrTooLarge) || len(b) > limit {
		t.Fatalf("a body over the limit: %d bytes, %v; want at most %d and ErrTooLarge", len(b), err, limit)
	}

	if _, err := client.Get(ts.URL + "/announced"); !errors.Is(err, safehttp.ErrTooLarge) {
		t.Fatalf("an announced length over the limit: %v, want ErrTooLarge", err)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	ts, _ := stub(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	start := time.Now()
	_, err := safehttp.NewClient(safehttp.Options{Allow: loopback4, Timeout: 100 * time.Millisecond}).Get(ts.URL)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("a stuck server: %v, want a timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the timeout took %v", d)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
