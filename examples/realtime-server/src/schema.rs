//! diesel table definitions, matching the embedded migrations.

diesel::table! {
    accounts (id) {
        id -> Text,
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        account_id -> Text,
        title -> Text,
        created_at -> BigInt,
        last_active_at -> BigInt,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        session_id -> Text,
        body -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    machines (id) {
        id -> Text,
        account_id -> Text,
        name -> Text,
        created_at -> BigInt,
        last_active_at -> BigInt,
    }
}

diesel::joinable!(sessions -> accounts (account_id));
diesel::joinable!(messages -> sessions (session_id));
diesel::joinable!(machines -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(accounts, sessions, messages, machines);
