package browsertest

import (
	"context"
	"fmt"
	"strings"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// record is the tab's listener: it keeps what a page must not do (log an
// error, throw, break its Content-Security-Policy). chromedp calls it in
// the tab's read loop, in the order the browser sent the events, so it
// only appends.
func (b *Browser) record(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			problem = fmt.Sprintf("console.%s: %s", ev.Type, argsText(ev.Args))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		problem = fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, text)
	case *log.EventEntryAdded:
		problem = logProblem(ev.Entry)
	case *cdppage.EventJavascriptDialogOpening:
		// A confirm() before a destructive button: a person reads it and
		// says yes. Answered off the read loop, which must not block.
		b.mu.Lock()
		b.dialogs = append(b.dialogs, ev.Message)
		b.mu.Unlock()
		go func() { _ = chromedp.Do(b.ctx, acceptDialog) }()
	}
	if problem == "" {
		return
	}
	b.mu.Lock()
	b.problems = append(b.problems, problem)
	b.mu.Unlock()
}

// logProblem classifies an entry of the browser's own log. A refused
// request (401, 403, 404) is logged as a network error; tests of refusals
// make those on purpose, so they are not problems. Everything else at
// error level is, a Content-Security-Policy violation above all.
func logProblem(e *log.Entry) string {
	if e == nil || e.Level != log.EntryLevelError || e.Source == log.EntrySourceNetwork {
		return ""
	}
	if strings.Contains(e.Text, "Content Security Policy") {
		return "Content-Security-Policy violation at " + e.URL + ": " + e.Text
	}
	return fmt.Sprintf("browser %s error at %s: %s", e.Source, e.URL, e.Text)
}

// argsText renders console arguments as the console shows them, roughly.
func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case a.Type == runtime.RemoteObjectTypeString:
			parts = append(parts, strings.Trim(string(a.Value), `"`))
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Value))
		}
	}
	return strings.Join(parts, " ")
}

// Problems returns the console errors, uncaught exceptions and CSP
// violations the tab has seen and not yet reported, and forgets them: a
// test that provokes one on purpose takes it here and checks it, and the
// end-of-test check fails only on the others.
func (b *Browser) Problems() []string {
	b.t.Helper()
	b.sync()
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.problems
	b.problems = nil
	return out
}

// sync waits for the events the browser sent before now: the reply to a
// command comes after them, and the listener sees them in order.
func (b *Browser) sync() {
	b.t.Helper()
	if b.ctx.Err() != nil {
		return
	}
	if err := chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](`0`)); err != nil {
		b.t.Errorf("browsertest: wait for the page's console: %v", err)
	}
}

// reportProblems fails the test for every problem left when it ends.
func (b *Browser) reportProblems() {
	for _, p := range b.Problems() {
		b.t.Errorf("browsertest: the page reported a problem: %s", p)
	}
}

// Dialogs are the messages of the confirm() and alert() dialogs the pages
// opened so far, each accepted as a person who means it would.
func (b *Browser) Dialogs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.dialogs...)
}

// acceptDialog answers the open JavaScript dialog with OK.
var acceptDialog chromedp.Action[chromedp.Void] = func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
	_, err := cdp.Call(ctx, t, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: true})
	return chromedp.Void{}, err
}
