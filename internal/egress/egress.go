// Package egress restricts where the server's outgoing HTTP requests
// (alert webhooks, Alertmanager pushes) may go, so that a rule or
// receiver author cannot make Stratus call arbitrary internal addresses
// (cloud metadata endpoints, admin ports on localhost).
//
// An allow-list names hosts (exact, or "*.example.com" for subdomains) and
// networks in CIDR notation. A target host named in the list is dialled as
// named; any other host is resolved and every address it resolves to must
// lie in an allowed network; the connection then goes to the address that
// was checked, so a DNS answer that changes between check and dial
// (rebinding) cannot slip through. An empty list allows everything: the
// local quick start.
//
// TLS is verified as Go does by default; CAFile adds a private CA.
package egress

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"
)

// Config is the egress section of the configuration.
type Config struct {
	// Allow lists hosts and CIDR networks outgoing requests may reach.
	Allow []string `yaml:"allow"`
	// CAFile is a PEM bundle trusted besides the system roots.
	CAFile string `yaml:"ca_file"`
}

// Policy is a parsed allow-list.
type Policy struct {
	hosts    map[string]bool
	suffixes []string // ".example.com" for "*.example.com"
	nets     []netip.Prefix
	resolver *net.Resolver
}

// Parse reads the allow-list.
func Parse(allow []string) (*Policy, error) {
	p := &Policy{hosts: map[string]bool{}, resolver: net.DefaultResolver}
	var errs []error
	for _, a := range allow {
		a = strings.TrimSpace(strings.ToLower(a))
		switch {
		case a == "":
			errs = append(errs, errors.New("egress: empty allow entry"))
		case strings.Contains(a, "/"):
			pfx, err := netip.ParsePrefix(a)
			if err != nil {
				errs = append(errs, fmt.Errorf("egress: allow %q: %w", a, err))
				continue
			}
			p.nets = append(p.nets, pfx.Masked())
		case strings.HasPrefix(a, "*."):
			p.suffixes = append(p.suffixes, a[1:])
		default:
			if ip, err := netip.ParseAddr(a); err == nil {
				p.nets = append(p.nets, netip.PrefixFrom(ip, ip.BitLen()))
				continue
			}
			p.hosts[a] = true
		}
	}
	return p, errors.Join(errs...)
}

// Open reports whether the policy allows everything.
func (p *Policy) Open() bool { return len(p.hosts) == 0 && len(p.suffixes) == 0 && len(p.nets) == 0 }

func (p *Policy) hostAllowed(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if p.hosts[host] {
		return true
	}
	for _, s := range p.suffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

func (p *Policy) addrAllowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, n := range p.nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// ErrDenied wraps refusals, which name the target.
var ErrDenied = errors.New("egress denied")

// DialContext dials addr ("host:port") if the policy allows it.
func (p *Policy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if p.Open() {
		return d.DialContext(ctx, network, addr)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if p.hostAllowed(host) {
		return d.DialContext(ctx, network, addr)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else if ips, err = p.resolver.LookupNetIP(ctx, "ip", host); err != nil {
		return nil, err
	}
	for _, ip := range ips {
		if !p.addrAllowed(ip) {
			return nil, fmt.Errorf("%w: %s resolves to %s, which is not in egress.allow", ErrDenied, host, ip)
		}
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("%w: %s resolves to no address", ErrDenied, host)
	}
	return d.DialContext(ctx, network, net.JoinHostPort(ips[0].String(), port))
}

// Client returns an HTTP client whose connections obey the policy and
// whose TLS trusts the system roots plus cfg.CAFile. Redirects are not
// followed: a webhook receiver never means one, and following it would
// send the alert's payload somewhere the operator did not name.
func Client(cfg Config, timeout time.Duration) (*http.Client, error) {
	p, err := Parse(cfg.Allow)
	if err != nil {
		return nil, err
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("egress: read ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("egress: ca_file %s holds no PEM certificate", cfg.CAFile)
		}
		tlsCfg.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = p.DialContext
	tr.TLSClientConfig = tlsCfg
	tr.Proxy = nil // a proxy would make the dialer check the proxy, not the target
	// The notifier keeps up to 16 deliveries in flight per receiver host;
	// keep that many connections alive so a burst does not redial.
	tr.MaxIdleConnsPerHost = 16
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, nil
}
