package okta

import "time"

// timeFormat is how Okta writes and accepts timestamps in filters.
const timeFormat = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }
