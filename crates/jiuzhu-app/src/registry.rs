//! The registry: divisions, households and people as the use-cases read them.

use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{Actor, DivisionCode};

use crate::App;

impl App {
    /// A division's name, or its code when the tree does not hold it. Names of administrative
    /// divisions are public, so the tree is read unscoped; this never reveals anything about
    /// people.
    pub async fn division_name(&self, code: &DivisionCode) -> String {
        let Ok(g) = Actor::system("names").grant::<ReadRegistry>() else {
            return code.to_string();
        };
        match self.store.get_division(&g, code).await {
            Ok(Some(d)) => d.name,
            _ => code.to_string(),
        }
    }
}
