//! docs/roles.md shows the role × action matrix; it must be the matrix the code enforces.

#[test]
fn roles_document_shows_the_enforced_matrix() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/roles.md"))
        .expect("docs/roles.md");
    let marker = "<!-- matrix:start -->\n";
    let start = doc.find(marker).expect("start marker") + marker.len();
    let end = doc.find("<!-- matrix:end -->").expect("end marker");
    assert_eq!(
        &doc[start..end],
        jiuzhu_domain::access::matrix_markdown(),
        "docs/roles.md is out of date with jiuzhu_domain::access::allows"
    );
}
