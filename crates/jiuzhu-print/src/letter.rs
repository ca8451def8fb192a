use chrono::{Datelike, NaiveDate};
use jiuzhu_domain::Money;

use crate::layout::{Align, Canvas, Column};
use crate::{check_nonempty, pdf, zh_date, CjkFont, PrintError};

/// A decision letter (决定书) to one applicant.
#[derive(Debug, Clone)]
pub struct DecisionLetter {
    /// e.g. "环民救〔2026〕123号".
    pub letter_number: String,
    /// The deciding office, printed above the seal.
    pub issuing_office: String,
    pub applicant_name: String,
    pub masked_id_number: String,
    /// The program, as a Chinese label (e.g. "最低生活保障").
    pub program: String,
    pub decision_date: NaiveDate,
    pub decision: Decision,
}

#[derive(Debug, Clone)]
pub enum Decision {
    Approval {
        monthly_amount: Money,
        /// Any day of the first month paid; only year and month are printed.
        start_month: NaiveDate,
        /// How the amount was reached, one line per rule applied.
        explanation: Vec<ExplanationLine>,
    },
    Refusal {
        /// Printed numbered 一、二、三…; at least one.
        reasons: Vec<String>,
        /// The remedy sentence; `None` prints [`default_remedy`] without naming the bodies.
        remedy: Option<String>,
    },
    /// A change of a running benefit (调整/暂停/恢复/停止): its own title, the decision sentence,
    /// the numbered reasons and the remedy (a change is appealable like a refusal).
    Change {
        title: String,
        statement: String,
        reasons: Vec<String>,
        remedy: Option<String>,
    },
}

/// One line of the amount's explanation: which rule, how it computes, the value, where it is
/// written down.
#[derive(Debug, Clone)]
pub struct ExplanationLine {
    pub rule: String,
    pub formula: String,
    pub value: String,
    pub source: String,
}

/// The remedy sentence of a refusal: administrative reconsideration within sixty days
/// (行政复议法 art. 20) or a lawsuit within six months (行政诉讼法 art. 46). Pass the bodies by
/// name when known, e.g. `default_remedy(Some("威海市环翠区人民政府"), Some("威海市环翠区人民法院"))`.
pub fn default_remedy(reconsideration_body: Option<&str>, court: Option<&str>) -> String {
    let body = reconsideration_body
        .map(|b| format!("向{b}"))
        .unwrap_or_default();
    let court = court.unwrap_or("人民法院");
    format!(
        "如对本决定不服，可以自收到本决定书之日起六十日内依法{body}申请行政复议，或者自收到本决定书之日起六个月内依法向{court}提起行政诉讼。"
    )
}

fn chinese_ordinal(n: usize) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => DIGITS[n].to_string(),
        10..=19 => format!("十{}", if n == 10 { "" } else { DIGITS[n - 10] }),
        20..=99 => format!(
            "{}十{}",
            DIGITS[n / 10],
            match n % 10 {
                0 => "",
                d => DIGITS[d],
            }
        ),
        _ => n.to_string(),
    }
}

impl DecisionLetter {
    fn validate(&self) -> Result<(), PrintError> {
        check_nonempty("letter_number", &self.letter_number)?;
        check_nonempty("issuing_office", &self.issuing_office)?;
        check_nonempty("applicant_name", &self.applicant_name)?;
        check_nonempty("program", &self.program)?;
        if let Decision::Refusal { reasons, .. } = &self.decision {
            if reasons.iter().all(|r| r.trim().is_empty()) {
                return Err(PrintError::NoReasons);
            }
        }
        Ok(())
    }

    pub fn title(&self) -> String {
        match self.decision {
            Decision::Approval { .. } => format!("准予{}决定书", self.program),
            Decision::Refusal { .. } => format!("不予{}决定书", self.program),
            Decision::Change { ref title, .. } => title.clone(),
        }
    }
}

/// Renders the letter as an A4 PDF.
pub fn render_decision_letter(
    font: &CjkFont,
    letter: &DecisionLetter,
) -> Result<Vec<u8>, PrintError> {
    letter.validate()?;
    let body = 12.0;
    let mut c = Canvas::new(font);
    c.paragraph("title", &letter.title(), 20.0, Align::Center, 0);
    c.gap(4.0);
    c.paragraph(
        "letter_number",
        &letter.letter_number,
        body,
        Align::Center,
        0,
    );
    c.gap(14.0);
    c.paragraph(
        "applicant_name",
        &format!("{}：", letter.applicant_name),
        body,
        Align::Left,
        0,
    );
    let who = format!(
        "你（身份证号：{}）提出的{}申请",
        letter.masked_id_number, letter.program
    );
    match &letter.decision {
        Decision::Approval {
            monthly_amount,
            start_month,
            explanation,
        } => {
            let text = format!(
                "{who}，经调查核实和审核，符合{p}条件。根据有关规定，本机关决定自{y}年{m}月起给予你家庭{p}，月救助金额为人民币 {monthly_amount} 元。",
                p = letter.program,
                y = start_month.year(),
                m = start_month.month(),
            );
            c.paragraph("decision", &text, body, Align::Left, 2);
            if !explanation.is_empty() {
                c.gap(6.0);
                c.paragraph("explanation", "救助金额计算说明：", body, Align::Left, 2);
                c.gap(4.0);
                let cols = [
                    Column {
                        title: "项目",
                        width: 96.0,
                        align: Align::Left,
                    },
                    Column {
                        title: "计算方法",
                        width: 178.0,
                        align: Align::Left,
                    },
                    Column {
                        title: "结果",
                        width: 80.0,
                        align: Align::Right,
                    },
                    Column {
                        title: "依据",
                        width: 129.28,
                        align: Align::Left,
                    },
                ];
                let rows: Vec<Vec<String>> = explanation
                    .iter()
                    .map(|l| {
                        vec![
                            l.rule.clone(),
                            l.formula.clone(),
                            l.value.clone(),
                            l.source.clone(),
                        ]
                    })
                    .collect();
                c.table("explanation", &cols, &rows, 9.5);
            }
        }
        Decision::Refusal { reasons, remedy } => {
            let text = format!(
                "{who}，经调查核实和审核，不符合{p}条件。根据有关规定，本机关决定不予{p}。理由如下：",
                p = letter.program
            );
            c.paragraph("decision", &text, body, Align::Left, 2);
            for (i, reason) in reasons.iter().filter(|r| !r.trim().is_empty()).enumerate() {
                let line = format!("{}、{}", chinese_ordinal(i + 1), reason.trim());
                c.paragraph(&format!("reasons[{}]", i + 1), &line, body, Align::Left, 2);
            }
            let remedy = remedy.clone().unwrap_or_else(|| default_remedy(None, None));
            c.gap(4.0);
            c.paragraph("remedy", &remedy, body, Align::Left, 2);
        }
        Decision::Change {
            statement,
            reasons,
            remedy,
            ..
        } => {
            c.paragraph("decision", statement, body, Align::Left, 2);
            for (i, reason) in reasons.iter().filter(|r| !r.trim().is_empty()).enumerate() {
                let line = format!("{}、{}", chinese_ordinal(i + 1), reason.trim());
                c.paragraph(&format!("reasons[{}]", i + 1), &line, body, Align::Left, 2);
            }
            let remedy = remedy.clone().unwrap_or_else(|| default_remedy(None, None));
            c.gap(4.0);
            c.paragraph("remedy", &remedy, body, Align::Left, 2);
        }
    }
    c.gap(28.0);
    c.ensure(60.0);
    c.paragraph(
        "issuing_office",
        &format!("{}（盖章）", letter.issuing_office),
        body,
        Align::Right,
        0,
    );
    c.paragraph(
        "decision_date",
        &zh_date(letter.decision_date),
        body,
        Align::Right,
        0,
    );
    let pages = c.finish(font)?;
    pdf::write(font, &letter.title(), &pages)
}
