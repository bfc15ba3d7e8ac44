package sources

// Names lists the registered kinds, sorted.
func (reg Registry) Names() []string { return sortedKeys(reg) }
