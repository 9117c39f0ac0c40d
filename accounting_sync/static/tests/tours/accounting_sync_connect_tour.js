import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("accounting_sync_connect_tour", {
    steps: () => [
        {
            content: "The connection is not connected yet, inside its menu and breadcrumb",
            trigger: ".o_breadcrumb:contains('Connections')",
        },
        {
            content: "Its status says so",
            trigger: ".o_form_view .o_field_widget[name='display_status']:contains('Not connected')",
        },
        {
            content: "Connect: off to the provider's consent page",
            trigger: ".o_form_view button[name='action_connect']:contains('Connect')",
            run: "click",
        },
        {
            content: "Back from the consent page: connected to the chosen company",
            trigger: ".o_form_view:contains('Connected to Sandbox Company US 1')",
        },
        {
            content: "The token holder is shown",
            trigger: ".o_form_view .o_field_widget[name='token_holder_id']:contains('Ada Admin')",
        },
    ],
});
