use chrono::NaiveDate;
use jiuzhu_domain::Money;

use crate::layout::{Align, Canvas, Column};
use crate::{check_nonempty, pdf, zh_date, CjkFont, PrintError};

/// The public notice (公示) of one village or community: the people a decision is pending for.
///
/// Every row is shown as given: leaving out minors and people under the protected procedure is
/// the caller's decision (see the crate documentation). Identity numbers must arrive masked.
#[derive(Debug, Clone)]
pub struct Notice {
    /// The office that publishes the notice (e.g. "竹岛街道办事处").
    pub issuing_office: String,
    /// The village or community the notice is posted in.
    pub village: String,
    /// The program, as a Chinese label (e.g. "最低生活保障").
    pub program: String,
    /// First day of the notice period.
    pub period_from: NaiveDate,
    /// Last day of the notice period.
    pub period_to: NaiveDate,
    pub rows: Vec<NoticeRow>,
    /// Where objections go: phone and address.
    pub contact_phone: String,
    pub contact_address: String,
    /// The legal text on objections, e.g. "如有异议，请于公示期内向……反映".
    pub objection_text: String,
}

#[derive(Debug, Clone)]
pub struct NoticeRow {
    pub name: String,
    /// Must contain `*`: a notice never shows a whole identity number.
    pub masked_id_number: String,
    pub household_size: u32,
    pub program: String,
    pub monthly_amount: Money,
}

impl Notice {
    fn validate(&self) -> Result<(), PrintError> {
        check_nonempty("issuing_office", &self.issuing_office)?;
        check_nonempty("village", &self.village)?;
        check_nonempty("program", &self.program)?;
        check_nonempty("contact_phone", &self.contact_phone)?;
        check_nonempty("contact_address", &self.contact_address)?;
        check_nonempty("objection_text", &self.objection_text)?;
        if self.period_to < self.period_from {
            return Err(PrintError::BadPeriod {
                from: self.period_from,
                to: self.period_to,
            });
        }
        if self.rows.is_empty() {
            return Err(PrintError::EmptyField {
                field: "rows".into(),
            });
        }
        for (i, row) in self.rows.iter().enumerate() {
            let n = i + 1;
            check_nonempty(&format!("rows[{n}].name"), &row.name)?;
            if !row.masked_id_number.contains('*') {
                return Err(PrintError::UnmaskedIdNumber {
                    row: n,
                    value: row.masked_id_number.clone(),
                });
            }
        }
        Ok(())
    }

    pub fn title(&self) -> String {
        format!("{}{}拟保障对象公示", self.village, self.program)
    }
}

/// Renders the notice as an A4 PDF: title, period, the table (header repeated on each page),
/// totals, the objection text and contacts, the office and date, "第 i 页 共 N 页".
pub fn render_notice(font: &CjkFont, notice: &Notice) -> Result<Vec<u8>, PrintError> {
    notice.validate()?;
    let mut c = Canvas::new(font);
    c.paragraph("title", &notice.title(), 18.0, Align::Center, 0);
    c.paragraph(
        "issuing_office",
        &notice.issuing_office,
        11.0,
        Align::Center,
        0,
    );
    c.gap(8.0);
    let intro = format!(
        "根据社会救助有关规定，经申请、调查核实和审核，现将{}拟给予{}的对象名单予以公示。公示期自{}起至{}止。",
        notice.village,
        notice.program,
        zh_date(notice.period_from),
        zh_date(notice.period_to)
    );
    c.paragraph("intro", &intro, 11.0, Align::Left, 2);
    c.gap(6.0);

    let cols = [
        Column {
            title: "序号",
            width: 34.0,
            align: Align::Center,
        },
        Column {
            title: "姓名",
            width: 86.0,
            align: Align::Left,
        },
        Column {
            title: "身份证号",
            width: 126.0,
            align: Align::Center,
        },
        Column {
            title: "家庭人口",
            width: 52.0,
            align: Align::Center,
        },
        Column {
            title: "救助项目",
            width: 100.0,
            align: Align::Left,
        },
        Column {
            title: "月救助金额（元）",
            width: 85.28,
            align: Align::Right,
        },
    ];
    let rows: Vec<Vec<String>> = notice
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                (i + 1).to_string(),
                r.name.clone(),
                r.masked_id_number.clone(),
                r.household_size.to_string(),
                r.program.clone(),
                r.monthly_amount.to_string(),
            ]
        })
        .collect();
    c.table("rows", &cols, &rows, 10.0);
    c.gap(6.0);
    let people: u32 = notice.rows.iter().map(|r| r.household_size).sum();
    let total: Money = notice.rows.iter().map(|r| r.monthly_amount).sum();
    let summary = format!(
        "合计：{} 户，{} 人，月救助金额 {} 元。",
        notice.rows.len(),
        people,
        total
    );
    c.paragraph("summary", &summary, 11.0, Align::Left, 0);
    c.gap(6.0);
    c.paragraph(
        "objection_text",
        &notice.objection_text,
        11.0,
        Align::Left,
        2,
    );
    c.paragraph(
        "contact_phone",
        &format!("监督电话：{}", notice.contact_phone),
        11.0,
        Align::Left,
        2,
    );
    c.paragraph(
        "contact_address",
        &format!("受理地址：{}", notice.contact_address),
        11.0,
        Align::Left,
        2,
    );
    c.gap(18.0);
    c.ensure(60.0);
    c.paragraph(
        "issuing_office",
        &format!("{}（盖章）", notice.issuing_office),
        11.0,
        Align::Right,
        0,
    );
    c.paragraph(
        "period_from",
        &zh_date(notice.period_from),
        11.0,
        Align::Right,
        0,
    );
    let pages = c.finish(font)?;
    pdf::write(font, &notice.title(), &pages)
}
