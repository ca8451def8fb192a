//! The registry: divisions, households and people as the use-cases read them.

use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{Actor, DivisionCode, Grant};

use crate::{App, Result};

/// An uploaded file as the readers take it (name and bytes).
pub use jiuzhu_import::Input;
/// The bounds of a caseload uploaded on the page: larger caseloads go through the command line.
pub const CASELOAD_UPLOAD: jiuzhu_import::caseload::Limits =
    jiuzhu_import::caseload::Limits::UPLOAD;
/// The bounds of a division list uploaded on the page.
pub use jiuzhu_import::divisions::UPLOAD as DIVISIONS_UPLOAD;

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

/// A legacy caseload to import: the two files and how to read them.
pub struct CaseloadFiles {
    pub households: jiuzhu_import::Input,
    pub members: jiuzhu_import::Input,
    /// The day the imported facts are in force from.
    pub valid_from: chrono::NaiveDate,
    pub create_missing_divisions: bool,
    pub limits: jiuzhu_import::caseload::Limits,
}

/// Imports a legacy caseload (the command line, and the web's background job): the files are
/// read and checked in full off the async threads, then written in one transaction, or nothing
/// is — every rejected row is reported at once (`Error::Invalid`). `parsed` hears how many
/// rows are about to be written; `progress` how many are written.
pub async fn import_caseload(
    app: &App,
    grant: &Grant<jiuzhu_domain::access::ImportCaseload>,
    files: CaseloadFiles,
    parsed: impl FnOnce(&jiuzhu_domain::caseload::CaseloadBatch),
    progress: jiuzhu_store::Progress<'_>,
) -> Result<jiuzhu_store::ImportSummary> {
    let batch = tokio::task::spawn_blocking(move || {
        jiuzhu_import::caseload::parse(
            &files.households,
            &files.members,
            files.valid_from,
            files.create_missing_divisions,
            files.limits,
        )
    })
    .await
    .map_err(|e| crate::Error::internal_from("reading a caseload", e))??;
    parsed(&batch);
    Ok(app.store.import_caseload(grant, &batch, progress).await?)
}

/// Imports a jurisdiction tree (divisions) from a file, checked in full first.
pub async fn import_divisions(
    app: &App,
    grant: &Grant<jiuzhu_domain::access::ManageDivisions>,
    file: jiuzhu_import::Input,
    limits: jiuzhu_import::TableLimits,
) -> Result<u64> {
    let rows = tokio::task::spawn_blocking(move || jiuzhu_import::divisions::parse(&file, limits))
        .await
        .map_err(|e| crate::Error::internal_from("reading a division file", e))??;
    Ok(app.store.import_divisions(grant, &rows).await?)
}

mod records;
