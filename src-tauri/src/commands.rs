//! The commands of docs/desktop.md. Each runs its engine call on the
//! blocking pool so the window never waits on SQLite or the relay.

use shoal_app::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use tauri::State;

type Eng<'a> = State<'a, Arc<Engine>>;

/// Runs `f` on the blocking pool.
async fn off_main<T: Send + 'static>(
    engine: &Arc<Engine>,
    f: impl FnOnce(&Engine) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let engine = engine.clone();
    tauri::async_runtime::spawn_blocking(move || f(&engine))
        .await
        .map_err(|e| AppError::new(ErrorKind::Storage, format!("the command failed: {e}")))?
}

#[tauri::command]
async fn app_state(engine: Eng<'_>) -> Result<AppState, AppError> {
    off_main(&engine, |e| Ok(e.app_state())).await
}

#[tauri::command]
async fn start_local(
    engine: Eng<'_>,
    team_name: String,
    agent_name: String,
    agent_email: String,
) -> Result<AppState, AppError> {
    off_main(&engine, move |e| {
        e.start_local(&team_name, &agent_name, &agent_email)
    })
    .await
}

#[tauri::command]
async fn join_team(
    engine: Eng<'_>,
    relay_url: String,
    token: String,
) -> Result<AppState, AppError> {
    off_main(&engine, move |e| e.join_team(&relay_url, &token)).await
}

#[tauri::command]
async fn sign_in(engine: Eng<'_>, token: String) -> Result<AppState, AppError> {
    off_main(&engine, move |e| e.sign_in(&token)).await
}

#[tauri::command]
async fn inbox(
    engine: Eng<'_>,
    view: String,
    sort: Option<String>,
    tag: Option<String>,
    offset: usize,
    limit: usize,
) -> Result<InboxPage, AppError> {
    off_main(&engine, move |e| {
        e.inbox_page(
            &view,
            sort.as_deref().unwrap_or("activity"),
            tag.as_deref(),
            offset,
            limit,
        )
    })
    .await
}

#[tauri::command]
async fn inbox_counts(engine: Eng<'_>) -> Result<BTreeMap<String, i64>, AppError> {
    off_main(&engine, |e| e.inbox_counts()).await
}

#[tauri::command]
async fn conversation(engine: Eng<'_>, id: String) -> Result<ConversationView, AppError> {
    off_main(&engine, move |e| e.conversation(&id)).await
}

#[tauri::command]
async fn open_conversation(engine: Eng<'_>, id: String) -> Result<ConversationView, AppError> {
    off_main(&engine, move |e| e.open_conversation(&id)).await
}

#[tauri::command]
async fn leave_conversation(engine: Eng<'_>) -> Result<(), AppError> {
    off_main(&engine, |e| {
        e.leave_conversation();
        Ok(())
    })
    .await
}

#[tauri::command]
async fn set_composing(
    engine: Eng<'_>,
    id: String,
    composing: bool,
    note: Option<bool>,
) -> Result<(), AppError> {
    off_main(&engine, move |e| {
        e.set_composing(&id, composing, note.unwrap_or(false))
    })
    .await
}

#[tauri::command]
async fn reply(
    engine: Eng<'_>,
    id: String,
    body: String,
    force: Option<bool>,
) -> Result<EntryCreated, AppError> {
    off_main(&engine, move |e| {
        e.reply(&id, &body, force.unwrap_or(false))
    })
    .await
}

#[tauri::command]
async fn unsend(engine: Eng<'_>, id: String, entry_id: String) -> Result<(), AppError> {
    off_main(&engine, move |e| e.unsend(&id, &entry_id)).await
}

#[tauri::command]
async fn resolve_conflict(
    engine: Eng<'_>,
    id: String,
    field: String,
    value: String,
) -> Result<(), AppError> {
    off_main(&engine, move |e| e.resolve_conflict(&id, &field, &value)).await
}

#[tauri::command]
async fn save_draft(
    engine: Eng<'_>,
    id: String,
    mode: String,
    body: String,
) -> Result<(), AppError> {
    off_main(&engine, move |e| e.save_draft(&id, &mode, &body)).await
}

#[tauri::command]
async fn release_reply(
    engine: Eng<'_>,
    id: String,
    entry_id: String,
    body: Option<String>,
) -> Result<(), AppError> {
    off_main(&engine, move |e| {
        e.release_reply(&id, &entry_id, body.as_deref())
    })
    .await
}

#[tauri::command]
async fn discard_reply(engine: Eng<'_>, id: String, entry_id: String) -> Result<(), AppError> {
    off_main(&engine, move |e| e.discard_reply(&id, &entry_id)).await
}

#[tauri::command]
async fn note(engine: Eng<'_>, id: String, body: String) -> Result<EntryCreated, AppError> {
    off_main(&engine, move |e| e.note(&id, &body)).await
}

#[tauri::command]
async fn assign(engine: Eng<'_>, id: String, agent_id: Option<String>) -> Result<(), AppError> {
    off_main(&engine, move |e| e.assign(&id, agent_id.as_deref())).await
}

#[tauri::command]
async fn take(engine: Eng<'_>, id: String) -> Result<(), AppError> {
    off_main(&engine, move |e| e.take(&id)).await
}

#[tauri::command]
async fn set_status(
    engine: Eng<'_>,
    id: String,
    status: String,
    until: Option<i64>,
) -> Result<(), AppError> {
    off_main(&engine, move |e| e.set_status(&id, &status, until)).await
}

#[tauri::command]
async fn tag(engine: Eng<'_>, id: String, tag: String) -> Result<(), AppError> {
    off_main(&engine, move |e| e.tag(&id, &tag)).await
}

#[tauri::command]
async fn untag(engine: Eng<'_>, id: String, tag: String) -> Result<(), AppError> {
    off_main(&engine, move |e| e.untag(&id, &tag)).await
}

#[tauri::command]
async fn customer(engine: Eng<'_>, id: String) -> Result<CustomerView, AppError> {
    off_main(&engine, move |e| e.customer(&id)).await
}

#[tauri::command]
async fn splice_customer_notes(
    engine: Eng<'_>,
    id: String,
    index: usize,
    delete_count: usize,
    insert: String,
) -> Result<(), AppError> {
    off_main(&engine, move |e| {
        e.splice_customer_notes(&id, index, delete_count, &insert)
    })
    .await
}

#[tauri::command]
async fn team(engine: Eng<'_>) -> Result<TeamView, AppError> {
    off_main(&engine, |e| e.team()).await
}

#[tauri::command]
async fn templates(engine: Eng<'_>) -> Result<Vec<TemplateView>, AppError> {
    off_main(&engine, |e| e.templates()).await
}

#[tauri::command]
async fn set_template(engine: Eng<'_>, name: String, body: String) -> Result<(), AppError> {
    off_main(&engine, move |e| e.set_template(&name, &body)).await
}

#[tauri::command]
async fn remove_template(engine: Eng<'_>, name: String) -> Result<(), AppError> {
    off_main(&engine, move |e| e.remove_template(&name)).await
}

#[tauri::command]
async fn expand_template(engine: Eng<'_>, id: String, name: String) -> Result<String, AppError> {
    off_main(&engine, move |e| e.expand_template(&id, &name)).await
}

#[tauri::command]
async fn search(engine: Eng<'_>, query: String) -> Result<Vec<SearchHit>, AppError> {
    off_main(&engine, move |e| e.search(&query)).await
}

#[tauri::command]
async fn presence(engine: Eng<'_>) -> Result<Vec<PresenceView>, AppError> {
    off_main(&engine, |e| Ok(e.presence())).await
}

#[tauri::command]
async fn settings(engine: Eng<'_>) -> Result<Settings, AppError> {
    off_main(&engine, |e| Ok(e.settings())).await
}

#[tauri::command]
async fn await_confirmation(
    engine: Eng<'_>,
    id: String,
    follow_up_at: i64,
) -> Result<(), AppError> {
    off_main(&engine, move |e| e.await_confirmation(&id, follow_up_at)).await
}

#[tauri::command]
async fn close_confirmed(engine: Eng<'_>, id: String) -> Result<(), AppError> {
    off_main(&engine, move |e| e.close_confirmed(&id)).await
}

#[tauri::command]
async fn report(engine: Eng<'_>, weeks: u32) -> Result<ReportView, AppError> {
    off_main(&engine, move |e| e.report(weeks)).await
}

#[tauri::command]
async fn set_availability(engine: Eng<'_>, availability: String) -> Result<TeamView, AppError> {
    off_main(&engine, move |e| e.set_availability(&availability)).await
}

#[tauri::command]
async fn tags(engine: Eng<'_>) -> Result<Vec<String>, AppError> {
    off_main(&engine, |e| e.tags()).await
}

#[tauri::command]
async fn new_customer(engine: Eng<'_>, customer: CustomerInput) -> Result<String, AppError> {
    off_main(&engine, move |e| e.new_customer(customer)).await
}

#[tauri::command]
async fn edit_customer(
    engine: Eng<'_>,
    id: String,
    customer: CustomerInput,
) -> Result<(), AppError> {
    off_main(&engine, move |e| e.edit_customer(&id, customer)).await
}

#[tauri::command]
async fn log_call(engine: Eng<'_>, call: CallInput) -> Result<String, AppError> {
    off_main(&engine, move |e| e.log_call(call)).await
}

#[tauri::command]
async fn write_to_customer(engine: Eng<'_>, call: CallInput) -> Result<String, AppError> {
    off_main(&engine, move |e| e.write_to_customer(call)).await
}

#[tauri::command]
async fn move_conversation(engine: Eng<'_>, id: String, customer: String) -> Result<(), AppError> {
    off_main(&engine, move |e| e.move_conversation(&id, &customer)).await
}

#[tauri::command]
async fn set_priority(engine: Eng<'_>, id: String, priority: String) -> Result<(), AppError> {
    off_main(&engine, move |e| e.set_priority(&id, &priority)).await
}

#[tauri::command]
async fn team_settings(engine: Eng<'_>) -> Result<TeamSettingsView, AppError> {
    off_main(&engine, |e| e.team_settings()).await
}

#[tauri::command]
async fn change_team_settings(
    engine: Eng<'_>,
    change: TeamSettingsChange,
) -> Result<TeamSettingsView, AppError> {
    off_main(&engine, move |e| e.change_team_settings(change)).await
}

#[tauri::command]
async fn set_settings(engine: Eng<'_>, settings: Settings) -> Result<Settings, AppError> {
    off_main(&engine, move |e| e.set_settings(settings)).await
}

/// Every command, for `invoke_handler`.
pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app_state,
        start_local,
        join_team,
        sign_in,
        inbox,
        inbox_counts,
        conversation,
        open_conversation,
        leave_conversation,
        set_composing,
        reply,
        unsend,
        release_reply,
        discard_reply,
        save_draft,
        resolve_conflict,
        note,
        assign,
        take,
        set_status,
        tag,
        untag,
        set_priority,
        tags,
        new_customer,
        edit_customer,
        log_call,
        write_to_customer,
        move_conversation,
        customer,
        splice_customer_notes,
        team,
        templates,
        set_template,
        remove_template,
        expand_template,
        search,
        presence,
        settings,
        set_settings,
        set_availability,
        team_settings,
        change_team_settings,
        report,
        await_confirmation,
        close_confirmed,
        crate::bench::bench_enabled,
        crate::bench::bench_mark,
        crate::bench::bench_report,
    ]
}
