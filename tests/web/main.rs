//! The HTTP server from outside: endpoints, TLS, authentication, and the attacks of docs/security.md.

mod endpoints;
mod hostile;
mod hostile_config;
mod tls;
