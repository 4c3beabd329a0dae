/*
 * main.c - entry of the boot-tests program and the test table.
 */
#include <string.h>

#include "boot_tests.h"

void test_iommu_translation_on(void);
void test_dma_roundtrip(void);
void test_ipc_reply_token_kept_across_events(void);
void test_ipc_endpoint_closes_with_last_receiver(void);
void test_irq_msi_message(void);
void test_irq_coalesces(void);
void test_irq_ack_semantics(void);
void test_irq_pending_before_bind(void);
void test_irq_dma_done(void);
void test_irq_intx(void);
void test_irq_rights_and_errors(void);
void test_irq_owner_death_unhooks(void);
void test_irq_msix(void);
void test_notify_bound_with_irq(void);
void test_revoke_kill_mid_dma(void);
void test_revoke_old_iova_faults(void);
void test_revoke_frames_after_flush(void);
void test_revoke_every_death_cause(void);
void test_revoke_live_device_cap(void);
void test_revoke_live_unmaps_bars(void);
void test_revoke_flooding_owner(void);
void test_supervisor_restarts_driver(void);
void test_supervisor_gives_up_crash_loop(void);
void test_supervisor_cycles_no_leak(void);
void test_supervisor_refuses_bad_requests(void);
void test_dma_unmapped_iova_blocked(void);
void test_dma_readonly_blocked(void);
void test_dma_after_unmap_faults(void);
void test_dma_after_detach_faults(void);
void test_dma_map_errors(void);
void test_device_config_mediation(void);
void test_device_ownership(void);
void test_dma_fault_flood_quiesces(void);
void test_edu_driver_serves(void);
void test_dma_fault_reaches_supervisor(void);
void test_hostile_driver_escapes(void);
void test_ipc_call_reply_words(void);
void test_ipc_badges(void);
void test_ipc_cap_transfer(void);
void test_ipc_errors(void);
void test_cap_copy_reduced_rights(void);
void test_cap_revoke_other_process(void);
void test_cap_stale_and_wrong_type(void);
void test_pool_exhaustion(void);
void test_vm_map_errors(void);
void test_fault_reported_to_supervisor(void);
void test_fault_vectors(void);
void test_kill_blocked_process(void);
void test_faulted_unreachable_process_ends(void);
void test_last_process_cap_moved_into_itself(void);
void test_process_chains_end_without_recursion(void);
void test_preemption(void);
void test_sleep_and_timeouts(void);
void test_endpoint_timer_coalesces(void);
void test_name_registry(void);
void test_process_churn_no_leak(void);
void test_syscall_argument_errors(void);
void test_syscall_fuzzer(void);
void test_soak_crash_cycles(void);
void test_hostile_clients(void);
void test_hostile_devmgr(void);
void test_lease_rights_and_errors(void);
void test_lease_ends_its_mappings(void);
void test_lease_revoke_under_dma(void);
void test_lease_client_death_ends_it(void);
void test_lease_large_region_2m_pages(void);
void test_ring_signal_race_processes(void);
void test_datapath_edu_roundtrip(void);
void test_datapath_lease_rights(void);
void test_datapath_revoke_mid_transfer(void);
void test_datapath_hostile_client(void);
void test_datapath_refuses_bad_sessions(void);
void test_datapath_unbadged_signal(void);
void test_datapath_reopen_keeps_order(void);
void test_nvme_blk_integrity(void);
void test_nvme_blk_roundtrip_and_errors(void);
void test_nvme_refuses_without_iommu(void);
void test_nvme_blk_partitions_isolated(void);
void test_nvme_blk_queue_depth(void);
void test_nvme_client_dies_in_flight(void);
void test_nvme_revoke_resets_controller(void);
void test_nvme_driver_crash_mid_io(void);
void test_nvme_blk_zeroes_and_deallocate(void);
void test_nvme_intx_fallback(void);
void test_nvme_supervised_restart(void);
void test_nvme_blk_hostile_ring(void);
void test_nvme_queues_per_session(void);
void test_process_info(void);
void test_inspect_refused_without_capability(void);
void test_process_set_name(void);
void test_supervisor_control_rights_pause_resume(void);
int supervised_controller_main(void);
void test_copy_checked_survives(void);
void test_net_frames_mirrored(void);
void test_net_hostile_requests(void);
void test_net_killed_under_traffic(void);
void test_net_interrupt_fallbacks(void);
void test_net_stack_host_driven(void);
void test_net_udp_stream_driver_killed(void);
void test_net_port_grants(void);
void test_net_arp_expiry(void);
void test_net_dhcp_and_hostfwd(void);
void test_nvme_controller_fatal_recovered(void);
void test_nvme_command_timeout_recovered(void);
void test_nvme_device_revoked_fails_fast(void);
void test_notify_coalesces(void);
void test_notify_signal_never_blocks(void);
void test_notify_badges_select_bits(void);
void test_notify_wakes_other_process(void);
void test_notify_bound_to_endpoint(void);
void test_notify_rights_and_errors(void);
void test_notify_dead_waiters(void);
void test_notify_revoked_waiter_wakes_dead(void);
void test_ipc_revoked_receiver_wakes_dead(void);
void test_ipc_signal_recv(void);
void test_cap_watch_fires_on_revoke_not_delete(void);
void test_cap_watch_endpoint_closes(void);
void test_cap_watch_replace_and_remove(void);
void test_cap_watch_errors(void);
void test_cap_watch_process_and_holder_death(void);

const struct boot_test boot_tests[] = {
    { "ipc_call_reply_words", test_ipc_call_reply_words },
    { "ipc_badges", test_ipc_badges },
    { "ipc_cap_transfer", test_ipc_cap_transfer },
    { "ipc_errors", test_ipc_errors },
    { "ipc_reply_token_kept_across_events", test_ipc_reply_token_kept_across_events },
    { "ipc_endpoint_closes_with_last_receiver", test_ipc_endpoint_closes_with_last_receiver },
    { "cap_copy_reduced_rights", test_cap_copy_reduced_rights },
    { "cap_revoke_other_process", test_cap_revoke_other_process },
    { "cap_stale_and_wrong_type", test_cap_stale_and_wrong_type },
    { "pool_exhaustion", test_pool_exhaustion },
    { "vm_map_errors", test_vm_map_errors },
    { "fault_reported_to_supervisor", test_fault_reported_to_supervisor },
    { "fault_vectors", test_fault_vectors },
    { "kill_blocked_process", test_kill_blocked_process },
    { "faulted_unreachable_process_ends", test_faulted_unreachable_process_ends },
    { "last_process_cap_moved_into_itself", test_last_process_cap_moved_into_itself },
    { "process_chains_end_without_recursion", test_process_chains_end_without_recursion },
    { "preemption", test_preemption },
    { "sleep_and_timeouts", test_sleep_and_timeouts },
    { "endpoint_timer_coalesces", test_endpoint_timer_coalesces },
    { "name_registry", test_name_registry },
    { "process_churn_no_leak", test_process_churn_no_leak },
    { "syscall_argument_errors", test_syscall_argument_errors },
    { "syscall_fuzzer", test_syscall_fuzzer },
    { "soak_crash_cycles", test_soak_crash_cycles },
    { "hostile_clients", test_hostile_clients },
    { "hostile_devmgr", test_hostile_devmgr },
    { "notify_coalesces", test_notify_coalesces },
    { "notify_signal_never_blocks", test_notify_signal_never_blocks },
    { "notify_badges_select_bits", test_notify_badges_select_bits },
    { "notify_wakes_other_process", test_notify_wakes_other_process },
    { "notify_bound_to_endpoint", test_notify_bound_to_endpoint },
    { "notify_rights_and_errors", test_notify_rights_and_errors },
    { "notify_dead_waiters", test_notify_dead_waiters },
    { "notify_revoked_waiter_wakes_dead", test_notify_revoked_waiter_wakes_dead },
    { "ipc_revoked_receiver_wakes_dead", test_ipc_revoked_receiver_wakes_dead },
    { "ipc_signal_recv", test_ipc_signal_recv },
    { "cap_watch_fires_on_revoke_not_delete", test_cap_watch_fires_on_revoke_not_delete },
    { "cap_watch_endpoint_closes", test_cap_watch_endpoint_closes },
    { "cap_watch_replace_and_remove", test_cap_watch_replace_and_remove },
    { "cap_watch_errors", test_cap_watch_errors },
    { "cap_watch_process_and_holder_death", test_cap_watch_process_and_holder_death },
    { "iommu_translation_on", test_iommu_translation_on },
    { "dma_roundtrip", test_dma_roundtrip },
    { "dma_unmapped_iova_blocked", test_dma_unmapped_iova_blocked },
    { "dma_readonly_blocked", test_dma_readonly_blocked },
    { "dma_after_unmap_faults", test_dma_after_unmap_faults },
    { "dma_after_detach_faults", test_dma_after_detach_faults },
    { "dma_map_errors", test_dma_map_errors },
    { "device_config_mediation", test_device_config_mediation },
    { "device_ownership", test_device_ownership },
    { "dma_fault_flood_quiesces", test_dma_fault_flood_quiesces },
    { "dma_fault_reaches_supervisor", test_dma_fault_reaches_supervisor },
    { "edu_driver_serves", test_edu_driver_serves },
    { "hostile_driver_escapes", test_hostile_driver_escapes },
    { "irq_msi_message", test_irq_msi_message },
    { "irq_coalesces", test_irq_coalesces },
    { "irq_ack_semantics", test_irq_ack_semantics },
    { "irq_pending_before_bind", test_irq_pending_before_bind },
    { "irq_dma_done", test_irq_dma_done },
    { "irq_intx", test_irq_intx },
    { "irq_rights_and_errors", test_irq_rights_and_errors },
    { "irq_owner_death_unhooks", test_irq_owner_death_unhooks },
    { "irq_msix", test_irq_msix },
    { "notify_bound_with_irq", test_notify_bound_with_irq },
    { "revoke_kill_mid_dma", test_revoke_kill_mid_dma },
    { "revoke_old_iova_faults", test_revoke_old_iova_faults },
    { "revoke_frames_after_flush", test_revoke_frames_after_flush },
    { "revoke_every_death_cause", test_revoke_every_death_cause },
    { "revoke_live_device_cap", test_revoke_live_device_cap },
    { "revoke_live_unmaps_bars", test_revoke_live_unmaps_bars },
    { "revoke_flooding_owner", test_revoke_flooding_owner },
    { "supervisor_restarts_driver", test_supervisor_restarts_driver },
    { "supervisor_gives_up_crash_loop", test_supervisor_gives_up_crash_loop },
    { "supervisor_cycles_no_leak", test_supervisor_cycles_no_leak },
    { "supervisor_refuses_bad_requests", test_supervisor_refuses_bad_requests },
    { "lease_rights_and_errors", test_lease_rights_and_errors },
    { "lease_ends_its_mappings", test_lease_ends_its_mappings },
    { "lease_revoke_under_dma", test_lease_revoke_under_dma },
    { "lease_client_death_ends_it", test_lease_client_death_ends_it },
    { "lease_large_region_2m_pages", test_lease_large_region_2m_pages },
    { "ring_signal_race_processes", test_ring_signal_race_processes },
    { "datapath_edu_roundtrip", test_datapath_edu_roundtrip },
    { "datapath_lease_rights", test_datapath_lease_rights },
    { "datapath_revoke_mid_transfer", test_datapath_revoke_mid_transfer },
    { "datapath_hostile_client", test_datapath_hostile_client },
    { "datapath_refuses_bad_sessions", test_datapath_refuses_bad_sessions },
    { "datapath_unbadged_signal", test_datapath_unbadged_signal },
    { "datapath_reopen_keeps_order", test_datapath_reopen_keeps_order },
    { "nvme_blk_integrity", test_nvme_blk_integrity },
    { "nvme_blk_roundtrip_and_errors", test_nvme_blk_roundtrip_and_errors },
    { "nvme_blk_zeroes_and_deallocate", test_nvme_blk_zeroes_and_deallocate },
    { "nvme_intx_fallback", test_nvme_intx_fallback },
    { "nvme_blk_partitions_isolated", test_nvme_blk_partitions_isolated },
    { "nvme_blk_queue_depth", test_nvme_blk_queue_depth },
    { "nvme_queues_per_session", test_nvme_queues_per_session },
    { "nvme_blk_hostile_ring", test_nvme_blk_hostile_ring },
    { "nvme_client_dies_in_flight", test_nvme_client_dies_in_flight },
    { "nvme_revoke_resets_controller", test_nvme_revoke_resets_controller },
    { "nvme_controller_fatal_recovered", test_nvme_controller_fatal_recovered },
    { "nvme_command_timeout_recovered", test_nvme_command_timeout_recovered },
    { "nvme_device_revoked_fails_fast", test_nvme_device_revoked_fails_fast },
    { "nvme_driver_crash_mid_io", test_nvme_driver_crash_mid_io },
    { "nvme_supervised_restart", test_nvme_supervised_restart },
    { "nvme_refuses_without_iommu", test_nvme_refuses_without_iommu },
    { "process_info", test_process_info },
    { "inspect_refused_without_capability", test_inspect_refused_without_capability },
    { "process_set_name", test_process_set_name },
    { "supervisor_control_rights_pause_resume", test_supervisor_control_rights_pause_resume },
    { "copy_checked_survives", test_copy_checked_survives },
    { "net_frames_mirrored", test_net_frames_mirrored },
    { "net_hostile_requests", test_net_hostile_requests },
    { "net_killed_under_traffic", test_net_killed_under_traffic },
    { "net_interrupt_fallbacks", test_net_interrupt_fallbacks },
    { "net_port_grants", test_net_port_grants },
    { "net_arp_expiry", test_net_arp_expiry },
    { "net_stack_host_driven", test_net_stack_host_driven },
    { "net_udp_stream_driver_killed", test_net_udp_stream_driver_killed },
    { "net_dhcp_and_hostfwd", test_net_dhcp_and_hostfwd },
};
const unsigned boot_test_count = sizeof boot_tests / sizeof boot_tests[0];

int bt_failures;
bool bt_skipped;

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "runner") == 0)
        return bt_runner_main();
    if (argc >= 3 && strcmp(argv[1], "helper") == 0)
        return bt_helper_main(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "controller") == 0)     /* started by init's supervisor */
        return supervised_controller_main();
    for (unsigned i = 0; argc >= 2 && i < boot_test_count; i++) {
        if (strcmp(argv[1], boot_tests[i].name) == 0) {
            boot_tests[i].run();
            bt_cleanup();
            return bt_failures ? BT_EXIT_FAIL : bt_skipped ? BT_EXIT_SKIP : BT_EXIT_PASS;
        }
    }
    printf("# boot-tests: unknown role or test \"%s\"\n", argc >= 2 ? argv[1] : "");
    return BT_EXIT_FAIL;
}
