//! Exports of a [`Trace`](crate::trace::Trace) for other tools and other
//! places than the terminal: JSON today. Like `render`, it only reads traces:
//! it imports the vocabulary, never the capture layer or the catalogue.

pub mod json;
