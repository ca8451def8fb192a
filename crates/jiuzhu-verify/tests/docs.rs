//! docs/feeds.md lists every feed kind and every column of the schemas.

use jiuzhu_verify::FeedKind;
use jiuzhu_verify::FeedKindSchema;

#[test]
fn feeds_doc_lists_every_schema_column() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/feeds.md"))
        .expect("docs/feeds.md");
    for kind in FeedKind::ALL {
        let s = kind.schema();
        let heading = format!("### {} {}", s.kind.as_str(), s.kind.label_zh());
        assert!(doc.contains(&heading), "missing {heading}");
        let section = doc.split(&heading).nth(1).unwrap();
        let section = section.split("\n### ").next().unwrap();
        for c in &s.columns[1..] {
            let row = format!("| {} | ", c.name);
            assert!(
                section.contains(&row),
                "{}: missing column {}",
                s.kind.as_str(),
                c.name
            );
            assert!(
                section.contains(c.label_zh),
                "{}: missing label {}",
                s.kind.as_str(),
                c.label_zh
            );
        }
    }
}
