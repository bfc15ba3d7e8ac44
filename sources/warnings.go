package sources

// Warner is implemented by configs whose settings can be valid and still
// unsafe (certificate checks off, a password sent in clear). The config
// API shows the warnings with the source, so an admin sees what such a
// setting gives away; each warning names the setting and its risk.
type Warner interface {
	Warnings() []string
}
