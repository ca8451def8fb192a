//! Writes a sample notice, approval letter and refusal letter to a directory:
//!
//! ```sh
//! cargo run -p jiuzhu-print --example samples -- /tmp/print-out [--font PATH]
//! ```
//! then look at them, e.g. `pdftoppm -png -r 80 /tmp/print-out/notice.pdf /tmp/print-out/notice`.

use std::path::PathBuf;

use chrono::NaiveDate;
use jiuzhu_domain::Money;
use jiuzhu_print::{
    default_remedy, render_decision_letter, render_notice, CjkFont, Decision, DecisionLetter,
    ExplanationLine, Notice, NoticeRow, FONT_ENV,
};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn notice() -> Notice {
    const SURNAMES: &[&str] = &[
        "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "欧阳", "司马",
    ];
    const GIVEN: &[&str] = &[
        "秀英", "建国", "桂兰", "志强", "淑珍", "海燕", "德明", "玉梅", "晓东", "凤英",
    ];
    let mut rows = Vec::new();
    for i in 0..64usize {
        let mut name = format!(
            "{}{}",
            SURNAMES[i % SURNAMES.len()],
            GIVEN[(i * 7) % GIVEN.len()]
        );
        if i == 5 {
            name = "阿卜杜热合曼·买买提艾力·吐尔逊托合提".into();
        }
        let size = 1 + (i % 5) as u32;
        rows.push(NoticeRow {
            name,
            masked_id_number: format!("3710**********{:04}", 1000 + i),
            household_size: size,
            program: if i % 9 == 4 {
                "特困人员救助供养".into()
            } else {
                "最低生活保障".into()
            },
            monthly_amount: Money::from_fen(78_700 * i64::from(size) - 12_345 * (i as i64 % 4)),
        });
    }
    Notice {
        issuing_office: "威海市环翠区竹岛街道办事处".into(),
        village: "海埠社区".into(),
        program: "最低生活保障".into(),
        period_from: date(2026, 11, 23),
        period_to: date(2026, 11, 29),
        rows,
        contact_phone: "0631-5212345，12345 政务服务便民热线".into(),
        contact_address: "威海市环翠区竹岛街道办事处社会事务办公室（海滨北路 18 号便民服务中心二楼 203 室）".into(),
        objection_text: "如对公示对象有异议，请于公示期内以书面、电话或当面方式向街道办事处或区民政局反映。反映人应提供真实姓名和联系方式，我们将依法为反映人保密。".into(),
    }
}

fn approval() -> DecisionLetter {
    DecisionLetter {
        letter_number: "环民救〔2026〕123号".into(),
        issuing_office: "威海市环翠区民政局".into(),
        applicant_name: "王秀英".into(),
        masked_id_number: "3710**********1234".into(),
        program: "最低生活保障".into(),
        decision_date: date(2026, 11, 30),
        decision: Decision::Approval {
            monthly_amount: Money::from_fen(157_400),
            start_month: date(2026, 12, 1),
            explanation: vec![
                ExplanationLine {
                    rule: "保障标准".into(),
                    formula: "城市低保标准 × 共同生活人数 = 1,010.00 × 3".into(),
                    value: "3030.00 元".into(),
                    source: "威环政字〔2026〕5号".into(),
                },
                ExplanationLine {
                    rule: "家庭月人均收入".into(),
                    formula: "（工资 2,400.00 + 养老金 0.00 − 就业成本扣减 600.00）÷ 3".into(),
                    value: "600.00 元".into(),
                    source: "山东省最低生活保障审核确认办法第十二条".into(),
                },
                ExplanationLine {
                    rule: "补差金额".into(),
                    formula: "（1,010.00 − 600.00）× 3 + 重残人员增发 344.00".into(),
                    value: "1574.00 元".into(),
                    source: "POLICY.md §2 R-DB-5".into(),
                },
            ],
        },
    }
}

fn refusal() -> DecisionLetter {
    DecisionLetter {
        letter_number: "环民救〔2026〕124号".into(),
        issuing_office: "威海市环翠区民政局".into(),
        applicant_name: "李建国".into(),
        masked_id_number: "3710**********567X".into(),
        program: "最低生活保障".into(),
        decision_date: date(2026, 11, 30),
        decision: Decision::Refusal {
            reasons: vec![
                "经核对，你家庭月人均收入为 1,326.50 元，高于本地城市最低生活保障标准 1,010.00 元。".into(),
                "经不动产登记信息核对，你家庭成员名下有住房 3 套，超过本地规定的家庭财产状况条件。".into(),
                "你家庭成员王某某名下登记小型汽车一辆（非残疾人功能性补偿代步机动车），不符合财产条件。".into(),
            ],
            remedy: Some(default_remedy(Some("威海市环翠区人民政府"), Some("威海市环翠区人民法院"))),
        },
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut out = PathBuf::from("/tmp/print-out");
    let mut font_path = std::env::var_os(FONT_ENV).map(PathBuf::from);
    while let Some(a) = args.next() {
        if a == "--font" {
            font_path = args.next().map(PathBuf::from);
        } else {
            out = PathBuf::from(a);
        }
    }
    let font = CjkFont::locate(font_path.as_deref())?;
    eprintln!(
        "font: {} (face {}, {})",
        font.path().display(),
        font.face_index(),
        font.name()
    );
    std::fs::create_dir_all(&out)?;
    for (name, pdf) in [
        ("notice.pdf", render_notice(&font, &notice())?),
        ("approval.pdf", render_decision_letter(&font, &approval())?),
        ("refusal.pdf", render_decision_letter(&font, &refusal())?),
    ] {
        let path = out.join(name);
        std::fs::write(&path, &pdf)?;
        eprintln!("wrote {} ({} bytes)", path.display(), pdf.len());
    }
    Ok(())
}
