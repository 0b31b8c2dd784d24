//! Evaluator tests: each construct and each error, without a bus.
