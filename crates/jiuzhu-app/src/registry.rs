//! The registry: divisions, households and people as the use-cases read them.

use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{Actor, DivisionCode, Grant};

use crate::{App, Result};

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

    /// A division's name as the reader may see it: one in its scope, or one of the nodes above
    /// its own (a township's county and city are no secret to it, though outside its scope);
    /// `None` for anything else or a code not in the tree.
    pub async fn visible_division_name(
        &self,
        grant: &Grant<ReadRegistry>,
        code: &DivisionCode,
    ) -> Result<Option<String>> {
        if let Some(d) = self.store.get_division(grant, code).await? {
            return Ok(Some(d.name));
        }
        if !code.contains(grant.scope().root()) {
            return Ok(None);
        }
        let names = Actor::system("names").grant::<ReadRegistry>()?;
        Ok(self.store.get_division(&names, code).await?.map(|d| d.name))
    }
}
