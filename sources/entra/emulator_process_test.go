package entra_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources/entra"
	"github.com/scimgate/scimgate/sources/entra/graphtest"
	"github.com/scimgate/scimgate/storage"
)

// The full-sync benchmark runs the Graph emulator in a child process (this
// test binary again, told so by emulatorProcessEnv): real Graph is another
// machine, and an emulator holding a 100,000-user tenant in the source's
// own heap made the source's garbage collector scan it all the time. The
// two processes still share the same cores.
const emulatorProcessEnv = "SCIMGATE_GRAPH_EMULATOR_PROCESS"

func TestMain(m *testing.M) {
	if spec := os.Getenv(emulatorProcessEnv); spec != "" {
		os.Exit(serveEmulatorProcess(spec, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// emulatorHello is the child's first line: where to connect.
type emulatorHello struct {
	URL, TenantID, ClientID, ClientSecret string
}

// serveEmulatorProcess seeds "users,groups" and serves until stdin closes;
// a "requests" line on stdin is answered with the Graph request count.
func serveEmulatorProcess(spec string, in io.Reader, out io.Writer) int {
	users, groups, ok := strings.Cut(spec, ",")
	nu, err1 := strconv.Atoi(users)
	ng, err2 := strconv.Atoi(groups)
	if !ok || err1 != nil || err2 != nil {
		fmt.Fprintf(os.Stderr, "%s=%q: want users,groups\n", emulatorProcessEnv, spec)
		return 2
	}
	tn := graphtest.New(graphtest.Options{})
	defer tn.Close()
	tn.Seed(graphtest.SeedOptions{Users: nu, Groups: ng})
	hello, _ := json.Marshal(emulatorHello{tn.URL(), tn.TenantID(), tn.ClientID(), tn.ClientSecret()})
	fmt.Fprintf(out, "%s\n", hello)
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		if lines.Text() == "requests" {
			fmt.Fprintln(out, tn.GraphRequests(""))
		}
	}
	return 0
}

// emulatorProcess is the parent's handle on the child.
type emulatorProcess struct {
	hello emulatorHello
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
}

func (p *emulatorProcess) URL() string          { return p.hello.URL }
func (p *emulatorProcess) TenantID() string     { return p.hello.TenantID }
func (p *emulatorProcess) ClientID() string     { return p.hello.ClientID }
func (p *emulatorProcess) ClientSecret() string { return p.hello.ClientSecret }

// GraphRequests asks the child how many Graph requests it has served.
func (p *emulatorProcess) GraphRequests(tb testing.TB) int {
	tb.Helper()
	if _, err := fmt.Fprintln(p.in, "requests"); err != nil {
		tb.Fatal(err)
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		tb.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		tb.Fatalf("emulator said %q", line)
	}
	return n
}

func startEmulatorProcess(tb testing.TB, users, groups int) *emulatorProcess {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d,%d", emulatorProcessEnv, users, groups))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &emulatorProcess{cmd: cmd, in: in, out: bufio.NewReader(stdout)}
	tb.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	line, err := p.out.ReadString('\n')
	if err != nil {
		tb.Fatalf("emulator process: %v", err)
	}
	if err := json.Unmarshal([]byte(line), &p.hello); err != nil {
		tb.Fatalf("emulator process said %q: %v", line, err)
	}
	return p
}

// TestEmulatorProcess checks the child's protocol, so that a broken
// benchmark harness shows up in make test rather than in a bench run.
func TestEmulatorProcess(t *testing.T) {
	p := startEmulatorProcess(t, 3, 1)
	a := newApp(t, entra.Kind())
	id := a.createSource(t, p, nil)
	r := a.run(t, id)
	if r.Status != storage.RunSucceeded || r.Counts.Created != 4 {
		t.Fatalf("run %s %+v: %s", r.Status, r.Counts, r.Error)
	}
	if n := p.GraphRequests(t); n < 2 {
		t.Fatalf("the emulator counted %d Graph requests", n)
	}
}
