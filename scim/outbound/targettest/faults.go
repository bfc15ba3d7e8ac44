package targettest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault makes the next Times matching requests fail with Status (and a
// Retry-After header when set) before the target looks at them, so
// nothing is applied. Method and PathPrefix narrow which requests match
// ("" matches any).
type Fault struct {
	Times      int
	Status     int
	RetryAfter string // seconds ("3") or an HTTP-date, RFC 9110 §10.2.3
	Method     string
	PathPrefix string // below BasePath, e.g. "/Groups"
}

type faults struct {
	queue []Fault
	// after counts requests still answered before the target goes down
	// (-1 or unset: never); downStatus is what it answers then, 0 for a
	// dropped connection.
	after      int
	afterSet   bool
	downStatus int
	lose       int // creates still to apply and then lose
	latency    time.Duration
}

// fault is what takeFault decided for one request.
type fault struct {
	drop       bool // close the connection without applying or answering
	status     int
	retryAfter string
	loseCreate bool
	latency    time.Duration
}

// Inject queues a fault; faults apply in the order injected.
func (t *Target) Inject(f Fault) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f.Times > 0 {
		t.faults.queue = append(t.faults.queue, f)
	}
}

// Fail429 makes the next n requests answer 429 Too Many Requests with
// Retry-After in whole seconds (none when retryAfter is 0), as RFC 6585
// §4 and throttling targets such as AWS IAM Identity Center
// (ThrottlingException, 429) answer.
func (t *Target) Fail429(n int, retryAfter time.Duration) {
	ra := ""
	if retryAfter > 0 {
		ra = strconv.Itoa(int(retryAfter.Round(time.Second) / time.Second))
	}
	t.Inject(Fault{Times: n, Status: http.StatusTooManyRequests, RetryAfter: ra})
}

// Fail5xx makes the next n requests answer 500 without applying them
// (AWS documents InternalServerException, 500, on every operation).
func (t *Target) Fail5xx(n int) {
	t.Inject(Fault{Times: n, Status: http.StatusInternalServerError})
}

// Latency delays every answer by d (a slow target); 0 ends it. A client
// that gives up early cancels the wait.
func (t *Target) Latency(d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults.latency = d
}

// LoseCreateResponses makes the next n successful creates (POST /Users,
// POST /Groups) apply and then close the connection without an answer:
// the client cannot tell whether the object exists, as after a timeout
// or a reset once the request was sent.
func (t *Target) LoseCreateResponses(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults.lose = n
}

// FailAfter answers the next n requests normally and every later one
// with status, until ResetFaults: a target that goes down in the middle
// of a run. status 0 drops the connection instead, unanswered and
// unapplied, as a crashed server or a broken network does.
func (t *Target) FailAfter(n, status int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults.after, t.faults.afterSet, t.faults.downStatus = max(n, 0), true, status
}

// ResetFaults drops every pending fault and the latency.
func (t *Target) ResetFaults() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults = faults{}
}

func (t *Target) takeFault(method, path string) fault {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := fault{latency: t.faults.latency}
	if t.faults.afterSet {
		if t.faults.after == 0 {
			out.status, out.drop = t.faults.downStatus, t.faults.downStatus == 0
			return out
		}
		t.faults.after--
	}
	for i := range t.faults.queue {
		f := &t.faults.queue[i]
		if (f.Method != "" && f.Method != method) || !strings.HasPrefix(path, f.PathPrefix) {
			continue
		}
		out.status, out.retryAfter = f.Status, f.RetryAfter
		if f.Times--; f.Times == 0 {
			t.faults.queue = append(t.faults.queue[:i], t.faults.queue[i+1:]...)
		}
		return out
	}
	if method == http.MethodPost && t.faults.lose > 0 && (path == "/Users" || path == "/Groups") {
		out.loseCreate = true
	}
	return out
}

// consumeLoss counts one lost create; false when another request took
// the last one meanwhile.
func (t *Target) consumeLoss() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.faults.lose <= 0 {
		return false
	}
	t.faults.lose--
	return true
}

func (t *Target) afterLatency(d time.Duration) <-chan time.Time { return time.After(d) }
