package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/internal/auth"
)

// writeCert writes a self-signed certificate for 127.0.0.1 with the given
// serial to certFile and keyFile, and returns it.
func writeCert(t *testing.T, certFile, keyFile string, serial int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "stratus-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// Write to temporary names and rename, as a certificate manager does.
	for path, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: kb}} {
		if err := os.WriteFile(path+".tmp", pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			t.Fatal(err)
		}
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// secureProc is a stratus binary serving HTTPS with authentication on.
type secureProc struct {
	*proc
	base   string
	client *http.Client
	pool   *x509.CertPool
}

const (
	e2eAdminToken  = "e2e-admin-token-0123456789"
	e2eWriterToken = "e2e-writer-token-0123456789"
)

func startSecure(t *testing.T, dir, addr string, ca *x509.Certificate) *secureProc {
	t.Helper()
	cfg := fmt.Sprintf(`auth:
  enabled: true
  tokens:
    - {name: ops, token_sha256: %s, roles: [read, admin]}
    - {name: pusher, token: %s, roles: [write]}
tls:
  cert_file: %s
  key_file: %s
server:
  read_header_timeout: 1s
`, auth.HashToken(e2eAdminToken), e2eWriterToken, filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	cfgFile := filepath.Join(dir, "stratus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(stratusBin, "serve", "--listen-addr", addr, "--data-dir", filepath.Join(dir, "data"), "--config", cfgFile, "--log-level", "debug")
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, &syncWriter{w: logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &secureProc{proc: &proc{cmd: cmd, addr: addr, logs: logs}, base: "https://" + addr, pool: x509.NewCertPool()}
	t.Cleanup(func() { p.kill() })
	p.pool.AddCert(ca)
	p.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: p.pool}, DisableKeepAlives: true,
	}}
	if !waitReady(p.client, p.base) {
		p.kill()
		t.Fatalf("stratus did not become ready over https; logs:\n%s", logs)
	}
	return p
}

func (p *secureProc) do(t *testing.T, method, path, token string, body io.Reader, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, p.base+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSecurityEndToEnd runs the real binary with TLS and tokens and
// attacks it the ways a hostile or broken client would.
func TestSecurityEndToEnd(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca := writeCert(t, certFile, keyFile, 1)
	addr := freeAddr(t)
	p := startSecure(t, dir, addr, ca)

	// Credentials.
	if code, _ := p.do(t, "GET", "/api/v1/query?query=1", "", nil, nil); code != 401 {
		t.Errorf("query without token: %d, want 401", code)
	}
	if code, _ := p.do(t, "GET", "/api/v1/query?query=1", e2eWriterToken, nil, nil); code != 403 {
		t.Errorf("query with a write-only token: %d, want 403", code)
	}
	if code, body := p.do(t, "GET", "/api/v1/query?query=1", e2eAdminToken, nil, nil); code != 200 {
		t.Errorf("query with a read+admin token: %d %s, want 200", code, body)
	}

	t.Run("decompression bombs", func(t *testing.T) {
		// 256 MiB of zeros gzip to about 250 KiB: far under the body limit,
		// four times over the decompressed limit.
		var bomb bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
		zeros := make([]byte, 1<<20)
		for range 256 {
			zw.Write(zeros)
		}
		zw.Close()
		code, body := p.do(t, "POST", "/api/v1/publish", e2eWriterToken, bytes.NewReader(bomb.Bytes()), map[string]string{"Content-Encoding": "gzip", "Content-Type": "application/json"})
		if code != 413 || !strings.Contains(body, "MaxDecompressedBytes") {
			t.Errorf("gzip bomb: %d %.200s, want 413 naming the limit", code, body)
		}
		// A snappy block that declares 2 GiB.
		snappyBomb := binary.AppendUvarint(nil, 2<<30)
		snappyBomb = append(snappyBomb, bytes.Repeat([]byte{0}, 64)...)
		code, body = p.do(t, "POST", "/api/v1/write", e2eWriterToken, bytes.NewReader(snappyBomb), map[string]string{"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"})
		if code != 413 || !strings.Contains(body, "declares") {
			t.Errorf("snappy bomb: %d %.200s, want 413", code, body)
		}
		if rss := rssMiB(t, p.cmd.Process.Pid); rss > 400 {
			t.Errorf("resident memory after the bombs: %d MiB", rss)
		}
	})

	t.Run("slowloris", func(t *testing.T) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: p.pool})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /-/healthy HTTP/1.1\r\nHost: %s\r\n", addr)
		start := time.Now()
		closed := make(chan time.Duration, 1)
		go func() {
			io.Copy(io.Discard, conn) // returns when the server closes
			closed <- time.Since(start)
		}()
		// Trickle a header line every 200 ms; a patient server would wait
		// forever. Meanwhile a normal client is served.
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		served := false
		for i := 0; i < 40; i++ {
			select {
			case d := <-closed:
				if d > 3*time.Second {
					t.Errorf("slow client cut off after %v, want about the 1s read_header_timeout", d)
				}
				if !served {
					t.Error("no normal request was served while the slow client was connected")
				}
				return
			case <-tick.C:
				fmt.Fprintf(conn, "X-Slow-%d: x\r\n", i)
				if !served {
					code, _ := p.do(t, "GET", "/-/healthy", "", nil, nil)
					served = code == 200
				}
			}
		}
		t.Fatal("the server never cut off a client trickling its headers for 8 s")
	})

	t.Run("certificate reload", func(t *testing.T) {
		ca = writeCert(t, certFile, keyFile, 2)
		p.pool.AddCert(ca)
		deadline := time.Now().Add(10 * time.Second)
		var err error
		for time.Now().Before(deadline) {
			var conn *tls.Conn
			conn, err = tls.Dial("tcp", addr, &tls.Config{RootCAs: p.pool})
			if err == nil {
				serial := conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
				conn.Close()
				if serial == 2 {
					return
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("the server kept its old certificate after the files changed (last error %v)", err)
	})

	// Last, as it restarts the server.
	t.Run("audit trail and its tamper check across a restart", func(t *testing.T) {
		dash := `{"title":"SOX dashboard","panels":[{"title":"p","type":"timeseries","queries":[{"expr":"up"}]}]}`
		if code, body := p.do(t, "PUT", "/api/v1/dashboards/sox", e2eAdminToken, strings.NewReader(dash), map[string]string{"Content-Type": "application/json"}); code != 200 && code != 201 {
			t.Fatalf("put dashboard: %d %s", code, body)
		}
		code, body := p.do(t, "GET", "/api/v1/audit", e2eAdminToken, nil, nil)
		if code != 200 || !strings.Contains(body, `"action":"PUT /api/v1/dashboards/sox"`) || !strings.Contains(body, `"actor":"ops"`) ||
			!strings.Contains(body, "SOX dashboard") || !strings.Contains(body, `"action":"config.load"`) {
			t.Fatalf("audit entries: %d %.600s", code, body)
		}
		if strings.Contains(body, e2eAdminToken) || strings.Contains(body, e2eWriterToken) {
			t.Error("the audit log holds a token")
		}
		code, body = p.do(t, "GET", "/api/v1/audit/verify", e2eAdminToken, nil, nil)
		if code != 200 || !strings.Contains(body, `"ok":true`) {
			t.Fatalf("verify: %d %s", code, body)
		}
		code, body = p.do(t, "GET", "/api/v1/status/config", e2eAdminToken, nil, nil)
		if code != 200 || strings.Contains(body, e2eWriterToken) || strings.Contains(body, auth.HashToken(e2eAdminToken)) {
			t.Errorf("status/config shows a secret: %d %.400s", code, body)
		}
		p.stop(t)
		if strings.Contains(p.logs.String(), e2eAdminToken) || strings.Contains(p.logs.String(), e2eWriterToken) {
			t.Error("a token appears in the logs")
		}

		// Someone edits who made the change.
		path := filepath.Join(dir, "data", "audit", "audit.jsonl")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		edited := strings.Replace(string(data), `"actor":"ops","tenant":"default","remote":"127.0.0.1","action":"PUT /api/v1/dashboards/sox"`,
			`"actor":"someone-else","tenant":"default","remote":"127.0.0.1","action":"PUT /api/v1/dashboards/sox"`, 1)
		if edited == string(data) {
			t.Fatalf("entry to edit not found in %s", data)
		}
		var seq int
		for _, line := range strings.Split(edited, "\n") {
			if strings.Contains(line, "someone-else") {
				var e struct{ Seq int }
				json.Unmarshal([]byte(line), &e)
				seq = e.Seq
			}
		}
		os.WriteFile(path, []byte(edited), 0o640)

		p = startSecure(t, dir, addr, ca)
		code, body = p.do(t, "GET", "/api/v1/audit/verify", e2eAdminToken, nil, nil)
		if code != 200 || !strings.Contains(body, `"ok":false`) || !strings.Contains(body, fmt.Sprintf(`"broken_at":%d`, seq)) {
			t.Errorf("verify after tampering with entry %d: %d %s", seq, code, body)
		}
		p.stop(t) // the logs are read once the process has exited
		if !strings.Contains(p.logs.String(), "audit log chain is broken") {
			t.Errorf("the restart did not log the broken chain:\n%s", p.logs)
		}
	})
}

// rssMiB reads a process's resident memory from /proc.
func rssMiB(t *testing.T, pid int) int {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb / 1024
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
