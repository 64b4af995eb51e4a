// Package config reads configuration from the environment as the Python
// eventsourcing library does: values set in code override the process
// environment, and a variable prefixed with the application's name
// (BANK_ACCOUNTS_POSTGRES_SCHEMA) overrides the plain one
// (POSTGRES_SCHEMA). A bad value is an *Error naming the variable.
package config
