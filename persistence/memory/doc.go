// Package memory implements the recorders of package persistence in memory:
// the embedded default, like the Python library's "plain old Python objects" module.
// It is the fastest way to run an application and its tests, but nothing is
// written to disk. Notification IDs are gapless, starting at 1.
package memory
