package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkScenario describes a load for wrk: a path template with one %d that
// a Lua script fills with a random number below n on every request.
type wrkScenario struct {
	addr, pathFmt, auth string
	n                   int
}

// driveWrk runs wrk (Debian package wrk) with 2 threads, the way the
// numbers in BENCHMARKS.md were taken when wrk is installed. wrk is C and
// uses far less CPU per request than a Go client, so on a 2-core machine it
// leaves more of the machine to the server.
func driveWrk(ctx context.Context, dir string, sc wrkScenario, conns int, d time.Duration) (result, error) {
	script := fmt.Sprintf(`
math.randomseed(%d)
local auth = %q
request = function()
  local path = string.format(%q, math.random(0, %d))
  local headers = {}
  if auth ~= "" then headers["Authorization"] = "Bearer " .. auth end
  return wrk.format("GET", path, headers)
end
`, time.Now().UnixNano()%1e9, sc.auth, sc.pathFmt, max(sc.n-1, 0))
	path := filepath.Join(dir, "load.lua")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		return result{}, err
	}
	// A warm-up second first, as the Go driver has: connections, the
	// server's statement and page caches.
	for _, secs := range []int{1, int(d.Seconds())} {
		args := []string{"-t2", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(secs) + "s", "--latency", "-s", path, "http://" + sc.addr}
		out, err := exec.CommandContext(ctx, "wrk", args...).CombinedOutput()
		if err != nil {
			return result{}, fmt.Errorf("wrk: %w: %s", err, out)
		}
		if secs == int(d.Seconds()) {
			return parseWrk(string(out))
		}
	}
	return result{}, nil
}

var (
	wrkRPS     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkLatency = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
	wrkErrors  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

func parseWrk(out string) (result, error) {
	var r result
	m := wrkRPS.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no Requests/sec in wrk output: %s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, lm := range wrkLatency.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(lm[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[lm[3]]
		d := time.Duration(v * float64(unit))
		if lm[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if em := wrkErrors.FindStringSubmatch(out); em != nil {
		r.errors, _ = strconv.Atoi(em[1])
	}
	if strings.Contains(out, "Socket errors") {
		r.errors++
	}
	return r, nil
}
