package domain

import "github.com/google/uuid"

// NameID returns the version 5 (SHA-1, namespaced) UUID of name in the URL
// namespace, like Python's uuid5(NAMESPACE_URL, name). Use it for aggregates
// found by a name, such as an index of pages by title:
// NameID("/pages/" + title).
func NameID(name string) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte(name))
}
