package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The README is followed literally by newcomers, so TestREADME follows it
// too: every fenced block marked ```sh or ```bash runs, in order, in one
// bash session (set -euo pipefail) in a fresh working folder, against the
// real binary, the way a person pastes the blocks into a terminal.
//
// Conventions for README authors:
//   - A block that cannot run in a test (docker, kubectl, a real directory
//     or database, the whole test suite) is fenced ```sh norun. It is shown
//     as shell all the same; only its curl calls are checked (below).
//   - Blocks in other languages (```json, ```yaml, ...) and indented blocks
//     are prose to this test.
//   - The walkthrough talks to the server of `make run` at localhost:8080.
//     The test builds bin/scimgate once, runs a line that is exactly
//     `make run` (comments aside) as that binary serving in the background
//     on a free loopback port, and points localhost:8080 and the CLI's
//     default server there.
//   - Every curl uses -f, --fail or --fail-with-body, so a call that gets an
//     error status fails its block instead of printing an error and going on.
//   - Files the walkthrough reads come from the repository's
//     sources/csv/example/, copied to the same place in the working folder.
//
// Blocks may print what they like; the test only asks that each succeeds.

// readmeBlock is one fenced shell block of the README.
type readmeBlock struct {
	line  int // of the opening fence
	norun bool
	text  string
}

var readmeFence = regexp.MustCompile("^```\\s*(\\w*)(.*)$")

// readmeBlocks returns the README's shell blocks in order.
func readmeBlocks(t *testing.T, readme []byte) []readmeBlock {
	t.Helper()
	var out []readmeBlock
	var cur *readmeBlock
	var other bool // inside a fence of another language
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		m := readmeFence.FindStringSubmatch(strings.TrimSpace(line))
		switch {
		case m != nil && cur == nil && !other:
			if m[1] == "sh" || m[1] == "bash" {
				cur = &readmeBlock{line: n, norun: strings.Contains(" "+m[2]+" ", " norun ")}
			} else {
				other = true
			}
		case m != nil && m[1] == "" && strings.TrimSpace(m[2]) == "":
			if cur != nil {
				out = append(out, *cur)
			}
			cur, other = nil, false
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	if cur != nil || other {
		t.Fatal("README ends inside a fenced block")
	}
	return out
}

// curlFails matches the flags that make curl exit non-zero on an HTTP error.
var curlFails = regexp.MustCompile(`(^|\s)(--fail(-with-body)?|-[a-zA-Z]*f[a-zA-Z]*)(\s|$)`)

// curlCalls returns each curl command of a block: the logical line (with
// continuation lines joined) from "curl" to the end of its command.
func curlCalls(block string) []string {
	joined := strings.ReplaceAll(block, "\\\n", " ")
	var out []string
	for _, line := range strings.Split(joined, "\n") {
		for _, m := range regexp.MustCompile(`\bcurl\s`).FindAllStringIndex(line, -1) {
			call := line[m[0]:]
			if end := strings.IndexAny(call, "|;)&"); end >= 0 {
				call = call[:end]
			}
			out = append(out, call)
		}
	}
	return out
}

// readmeScript turns the blocks into one bash script: port replaces
// localhost:8080, and `make run` starts bin/scimgate in the background.
func readmeScript(blocks []readmeBlock, addr string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "set -euo pipefail\nexport SCIMGATE_SERVER=http://%s\n", addr)
	b.WriteString("trap 'if [ -n \"${SERVE_PID:-}\" ]; then kill \"$SERVE_PID\" 2>/dev/null; wait \"$SERVE_PID\" 2>/dev/null || true; fi' EXIT\n")
	makeRun := regexp.MustCompile(`^\s*make run(\s*#.*)?$`)
	for i, blk := range blocks {
		if blk.norun {
			continue
		}
		fmt.Fprintf(&b, "echo '### README block %d (line %d)' >&2\n", i+1, blk.line)
		for _, line := range strings.Split(strings.TrimSuffix(blk.text, "\n"), "\n") {
			if makeRun.MatchString(line) {
				fmt.Fprintf(&b, "bin/scimgate serve --listen %s >serve.log 2>&1 &\nSERVE_PID=$!\n", addr)
				fmt.Fprintf(&b, "for i in $(seq 100); do curl -sf http://%s/readyz >/dev/null && break; sleep 0.1; done\n", addr)
				fmt.Fprintf(&b, "curl -sf http://%s/readyz >/dev/null || { cat serve.log >&2; exit 1; }\n", addr)
				continue
			}
			b.WriteString(strings.ReplaceAll(line, "localhost:8080", addr) + "\n")
		}
	}
	b.WriteString("echo '### README done' >&2\n")
	return b.String()
}

func TestREADME(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the README walkthrough needs %s, which is not installed", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(t, readme)
	var runnable int
	for _, blk := range blocks {
		for _, call := range curlCalls(blk.text) {
			if !curlFails.MatchString(call) {
				t.Errorf("README line %d: %q lacks -f or --fail-with-body, so an error would not fail the block", blk.line, call)
			}
		}
		if !blk.norun {
			runnable++
		}
	}
	if runnable < 5 {
		t.Fatalf("found %d runnable shell blocks in README.md; the fences changed?", runnable)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	work := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(work, "bin", "scimgate"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	copyTree(t, "../../sources/csv/example", filepath.Join(work, "sources", "csv", "example"))

	addr := freeLoopbackAddr(t)
	cmd := exec.CommandContext(ctx, "bash", "-c", readmeScript(blocks, addr))
	cmd.Dir = work
	// A fresh shell: nothing of the developer's environment but PATH.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "TMPDIR=" + work, "LANG=C.UTF-8"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the server, if the script could not stop it
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(work, "serve.log"))
		t.Fatalf("following the README failed (%v); the last '### README block' line names the block:\n%s\n--- server log:\n%s", err, out.String(), log)
	}
	t.Logf("the README walkthrough's output:\n%s", out.String())
	if !strings.Contains(out.String(), "### README done") {
		t.Fatalf("the walkthrough stopped early:\n%s", out.String())
	}
}

// freeLoopbackAddr returns a loopback address with a port nobody listens on.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// copyTree copies the regular files under from to to.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
