package storage

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// NewLeaseHolder names a lease holder (a runner): host, process and a
// random part ("host/pid/random"), so two runners in one process (tests,
// or the sync and push runners) are different holders too.
func NewLeaseHolder() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// LeaseHolderAlive reports whether a lease holder named by NewLeaseHolder
// may be a live process other than this one. A holder on another host
// counts as dead: it is asked only where one host serves the database
// (SQLite). The same pid as ours is an earlier incarnation (pid 1 in a
// container).
func LeaseHolderAlive(holder string) bool {
	parts := strings.Split(holder, "/")
	if len(parts) != 3 {
		return false
	}
	host, _ := os.Hostname()
	pid, err := strconv.Atoi(parts[1])
	if parts[0] != host || err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
