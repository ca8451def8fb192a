//! The one-person-one-file archive through the application: an upload is checked in full before
//! a file is written, and a sensitive document is read only with the right to reveal.

use jiuzhu_app::documents::{self, DocumentSettings, Upload};
use jiuzhu_app::Error;
use jiuzhu_domain::access::WriteRegistry;
use jiuzhu_domain::{Actor, DivisionCode, Role, Scope};

use super::Db;

fn clerk(division: &str) -> Actor {
    Actor {
        user_id: Some(20),
        username: "clerk".into(),
        role: Role::WindowClerk,
        department: None,
        scope: Scope::new(DivisionCode::parse(division).unwrap()),
        origin: "127.0.0.1".into(),
        pending_approval: false,
    }
}

fn files_in(dir: &std::path::Path) -> usize {
    walk(dir)
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                if e.path().is_dir() {
                    walk(&e.path())
                } else {
                    1
                }
            })
            .sum()
    })
}

pub async fn an_upload_is_checked_before_a_file_is_written(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let app = db.open().await.with_documents(DocumentSettings {
        dir: dir.path().to_path_buf(),
        max_bytes: 1024,
        ..DocumentSettings::default()
    });
    let (household, _) = super::changes::approved_case(&app, 1).await;
    let upload = |bytes: &[u8], division: &str| {
        let grant = clerk(division).grant::<WriteRegistry>().unwrap();
        let up = Upload {
            owner_kind: "household".into(),
            owner_id: household.to_string(),
            doc_type: "income_proof".into(),
            note: String::new(),
            file_name: Some("C:\\扫描\\户口簿.pdf".into()),
            bytes: bytes.to_vec(),
            size: bytes.len() as u64,
        };
        let app = app.clone();
        async move { documents::upload(&app, &grant, up).await }
    };
    // Another township's clerk: not found, nothing written.
    let other = upload(b"%PDF-1.4 x", "371002002").await;
    assert!(matches!(other, Err(Error::NotFound)), "{other:?}");
    // Too large, and a type the archive does not take: refused, nothing written.
    let big = upload(&[b'%'; 2048], "371002001").await;
    assert!(
        matches!(
            big,
            Err(Error::TooLarge {
                limit: 1024,
                size: Some(2048)
            })
        ),
        "{big:?}"
    );
    let exe = upload(b"MZ\x90\x00", "371002001").await;
    let Err(Error::Invalid(fields)) = exe else {
        panic!("{exe:?}");
    };
    assert_eq!(fields[0].code, "FILE_TYPE");
    assert_eq!(files_in(dir.path()), 0);

    let doc = upload(b"%PDF-1.4 x", "371002001").await.unwrap();
    assert_eq!(doc.file_name, "户口簿.pdf");
    assert_eq!(doc.content_type, "application/pdf");
    assert_eq!(files_in(dir.path()), 1);
    let (read, bytes) = documents::content(&app, &clerk("371002001"), doc.id)
        .await
        .unwrap();
    assert_eq!((read.id, bytes.as_slice()), (doc.id, &b"%PDF-1.4 x"[..]));
}
