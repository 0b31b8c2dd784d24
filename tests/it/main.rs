//! The one integration-test binary (`cargo test --test it`).
mod sandbox;
mod support;
