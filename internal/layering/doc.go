// Package layering holds no code: its test checks the module's import
// graph against the layering the project promises (STYLE.md), so that
// `make test` fails when a package imports across a layer it must not.
package layering
