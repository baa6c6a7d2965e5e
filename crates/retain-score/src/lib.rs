//! Applying saved models to clients and writing ranked outreach lists.
