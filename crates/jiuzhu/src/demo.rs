//! Seeding the synthetic demo county into a store.

use std::time::Instant;

use anyhow::Context;
use chrono::Datelike;
use jiuzhu_domain::access::{ImportCaseload, ManageDivisions, ManageUsers};
use jiuzhu_domain::{Actor, AuditAction, NewUser};
use jiuzhu_policy::caseload::MonthCalculator;
use jiuzhu_policy::Month;
use jiuzhu_store::{ImportEconomics, Store};

/// Fixed so that every demo database is the same county with the same accounts.
pub const DEMO_SEED: u64 = 20261123;

/// Seeds the demo county unless its accounts already exist. Everything goes through the same
/// store operations (and audit) as a real county's set-up.
pub async fn seed_if_needed(app: &jiuzhu_app::App) -> anyhow::Result<()> {
    let store = app.store().as_ref();
    let demo = jiuzhu_import::demo::generate(DEMO_SEED);
    let first = demo.users.first().context("demo data has no users")?;
    if store.user_by_username(&first.username).await?.is_some() {
        println!("演示数据已存在,跳过生成 (demo county already present)");
        // A demo database of an earlier version lacks the accounts of roles added since (the
        // security and audit administrators, the county manager).
        let added = create_users(store, &demo.users, true).await?;
        if added > 0 {
            println!("已补充 {added} 个演示账户 (demo accounts added)");
        }
        return Ok(());
    }
    let started = Instant::now();
    let actor = Actor::system("demo");
    store
        .import_divisions(&actor.grant::<ManageDivisions>()?, &demo.divisions)
        .await
        .context("creating the demo jurisdiction tree")?;
    let summary = store
        .import_caseload(&actor.grant::<ImportCaseload>()?, &demo.batch, &|_, _| {})
        .await
        .context("creating the demo households")?;
    let economics: Vec<ImportEconomics> = demo
        .economics
        .iter()
        .map(|e| ImportEconomics {
            household_code: e.household_ref.clone(),
            id_numbers: e.id_numbers.clone(),
            economics: e.economics.clone(),
        })
        .collect();
    let recorded = store
        .import_economics(
            &actor.grant::<ImportCaseload>()?,
            jiuzhu_import::demo::valid_from(),
            &economics,
        )
        .await
        .context("recording the demo households' economics")?;
    let receiving = receiving_households(app, &actor).await?;
    let ids: Vec<_> = receiving.iter().map(|(id, _)| *id).collect();
    let marked = store
        .mark_current_recipients(
            &actor.grant::<ImportCaseload>()?,
            jiuzhu_import::demo::valid_from(),
            &ids,
        )
        .await
        .context("marking the demo county's current recipients")?;
    create_users(store, &demo.users, false).await?;
    let detail = format!(
        "{} divisions, {} households ({} with economics, {} receiving), {} persons, {} users",
        demo.divisions.len(),
        summary.households,
        recorded,
        marked,
        summary.persons,
        demo.users.len()
    );
    store
        .append_audit(
            &actor,
            AuditAction::DemoSeeded,
            "demo",
            None,
            None,
            Some(&detail),
        )
        .await?;
    println!(
        "已生成演示区县 (demo county seeded): {detail},用时 {:.1} 秒",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The demo county's roster of current recipients: the households its policy (with the store's
/// revisions) grants a 低保 or 特困 amount for the month the demo starts, with their identifiers
/// in the demo batch. A real county's legacy caseload is its roster as imported.
pub async fn receiving_households(
    app: &jiuzhu_app::App,
    actor: &Actor,
) -> anyhow::Result<Vec<(jiuzhu_domain::HouseholdId, String)>> {
    let params = app.params().await?;
    let lib = &params.policies;
    let day = jiuzhu_import::demo::valid_from();
    let g = actor.grant::<jiuzhu_domain::access::ReadRegistry>()?;
    let caseload = jiuzhu_app::month::caseload(app, &g, None, day).await?;
    let (inputs, positions, _unreadable) = &caseload.read;
    let mut calc = MonthCalculator::new(lib, Month::of(day));
    let mut out = Vec::new();
    for (input, &at) in inputs.iter().zip(positions) {
        let receives = calc
            .calculate(input)
            .is_ok_and(|r| r.total > jiuzhu_domain::Money::ZERO);
        if let (true, Some(source_ref)) = (receives, &caseload.source_refs[at]) {
            out.push((caseload.households[at].0, source_ref.clone()));
        }
    }
    Ok(out)
}

/// Creates the demo accounts (those missing, with `only_missing`), approved: the demo seeding is
/// the system's, like a first start. Returns how many were created.
async fn create_users(
    store: &dyn Store,
    users: &[jiuzhu_import::demo::DemoUser],
    only_missing: bool,
) -> anyhow::Result<usize> {
    let grant = Actor::system("demo").grant::<ManageUsers>()?;
    let mut created = 0;
    for u in users {
        if only_missing && store.user_by_username(&u.username).await?.is_some() {
            continue;
        }
        store
            .create_user(
                &grant,
                &NewUser {
                    username: u.username.clone(),
                    display_name: u.display_name.clone(),
                    role: u.role,
                    department: u.department,
                    division: u.division.clone(),
                    password_hash: jiuzhu_app::accounts::password::hash(&u.password)?,
                    must_change_password: false,
                },
            )
            .await
            .with_context(|| format!("creating demo user {}", u.username))?;
        created += 1;
    }
    Ok(created)
}

pub fn print_accounts() {
    let demo = jiuzhu_import::demo::generate(DEMO_SEED);
    println!("演示账户 (demo accounts):");
    println!(
        "  {:<22} {:<18} {:<14} {:<18} 姓名",
        "用户名", "密码", "角色", "辖区"
    );
    for u in &demo.users {
        let place = demo
            .divisions
            .iter()
            .find(|(c, _)| *c == u.division)
            .map(|(_, n)| n.as_str())
            .unwrap_or("");
        println!(
            "  {:<22} {:<18} {:<14} {:<18} {}",
            u.username,
            u.password,
            u.role.label_zh(),
            format!("{} {}", u.division, place),
            u.display_name
        );
    }
}

/// A few demo cases in different steps (one overdue), unless the store has cases already.
pub async fn seed_cases(app: &jiuzhu_app::App) -> anyhow::Result<()> {
    let numbers = jiuzhu_app::demo::seed_cases(app)
        .await
        .context("seeding demo cases")?;
    if !numbers.is_empty() {
        println!("已生成演示案件 (demo cases): {}", numbers.join(", "));
    }
    Ok(())
}

/// Departments' deliveries for the demo county and the previous month's comparison over them,
/// unless the store has deliveries already: the verification screens (核对数据, 一月一比对, 预警核查,
/// 政策找人) then have content on a fresh demo. Imported and compared through the same code as
/// `jiuzhu import feed` and `jiuzhu verify run`.
pub async fn seed_verification(app: &jiuzhu_app::App) -> anyhow::Result<()> {
    let (store, clock) = (app.store().as_ref(), app.clock().as_ref());
    use jiuzhu_app::verification::{self as feeds, NewFeedFile};
    let actor = Actor::system("demo");
    let g = actor.grant::<jiuzhu_domain::access::ImportFeeds>()?;
    let all = jiuzhu_store::DeliveryReader::Verification(actor.grant()?);
    jiuzhu_app::demo::register_sources(app).await?;
    if !store.list_deliveries(&all, None, 1).await?.is_empty() {
        return Ok(());
    }
    let today = clock.today();
    let first = today.with_day(1).context("first of the month")?;
    let data_date = first.pred_opt().context("the month before today")?;
    let month = jiuzhu_domain::Month::of(data_date);
    let demo = jiuzhu_import::demo::generate(DEMO_SEED);
    let recipients: std::collections::HashSet<String> = receiving_households(app, &actor)
        .await?
        .into_iter()
        .map(|(_, source_ref)| source_ref)
        .collect();
    // The operator's files: written next to the kept ones (so keeping them is a hard link),
    // removed once imported.
    let staging = app.feeds().data_dir().join("demo-feeds");
    std::fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
    let mut rejected = 0;
    for f in jiuzhu_import::demo_feeds::generate(&demo, &recipients, data_date) {
        let kind = jiuzhu_verify::FeedKind::parse(f.kind)
            .with_context(|| format!("demo feed kind {}", f.kind))?;
        let path = staging.join(format!("{}.csv", f.kind));
        std::fs::write(&path, &f.csv).with_context(|| format!("writing {}", path.display()))?;
        let imported = feeds::import_feed(
            app,
            &g,
            &NewFeedFile {
                kind,
                source: f.source.to_string(),
                data_date,
                path: path.clone(),
                staged: false,
            },
        )
        .await
        .with_context(|| format!("importing the demo {} delivery", f.kind))?;
        rejected += imported.delivery.rows_rejected;
        let _ = std::fs::remove_file(&path);
    }
    let _ = std::fs::remove_dir(&staging);
    let county = jiuzhu_domain::DivisionCode::parse(jiuzhu_import::demo::COUNTY_CODE)
        .map_err(|e| anyhow::anyhow!("demo county code: {e}"))?;
    let report = crate::cmd_verify::run_month(app, &actor, month, Some(county))
        .await?
        .context("the demo deliveries were not accepted")?;
    let by_kind = report
        .run
        .counts
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join("、");
    println!(
        "已生成演示核对数据 (demo deliveries): 7 批(拒收 {rejected} 行),{month} 比对预警 {} 条({by_kind}),政策找人线索 {} 条",
        report.run.warnings, report.leads_stored
    );
    Ok(())
}
