/*
 * t_hostile_clients.c - a seeded hostile client against init's registry
 * and supervisor, the edu driver, the NVMe block service, the e1000e frame
 * service and the network service over it (sockets: sends, receives and
 * pings with random addresses and ports; the harness's `soak`
 * configuration has all three devices and the host peer, on 127.0.0.1). Rounds of:
 *   - messages with random and known labels, random words, capabilities of
 *     the wrong type (reduced copies of this test's own objects) and names
 *     of random text, each with a short timeout;
 *   - sessions opened with regions of 1, 2, 8 or 64 pages, random device
 *     rights, capacities
 *     and arguments; in those that open, random descriptors (ops, offsets
 *     and lengths outside the region, arguments), ring indices overwritten
 *     with garbage, the region revoked with requests in flight, or the
 *     session closed with them;
 * each round followed by an honest request to every service, which must
 * succeed. At the end every service is still the same process, no
 * service's pool grew by more than a few pages since the first
 * WARM_ROUNDS rounds, and (the runner's leak check) no service kept
 * anything of the client's. Boot with
 * `hostileseed=S` to replay, `hostilerounds=N` for more rounds.
 */
#include <string.h>
#include <warden/registry.h>
#include <warden/spawn.h>
#include <warden/supervisor.h>

#include "boot_tests.h"
#include "edu_protocol.h"
#include "t_net.h"
#include "t_nvme.h"
#include "../../servers/net/net_protocol.h"

#define DEFAULT_ROUNDS 40u
#define MESSAGES_PER_ROUND 40u
#define CALL_NS (200 * BT_MS)
#define SETTLE_MS 2000u
/* Sessions move a service's address-space high-water marks (CPU and IOVA:
 * the kernel keeps page tables until the space dies) and fill its caches
 * (the NVMe driver keeps queue pairs for later sessions): its pool charge,
 * taken after these rounds, may grow by at most HIGH_WATER_BYTES by the
 * end, a few pages, far less than 20 rounds of a per-session leak. What a
 * service keeps of the client's is caught exactly by the runner's leak
 * check (this test's pool would stay charged). */
#define WARM_ROUNDS 20u
#define HIGH_WATER_BYTES (16ull * WD_PAGE_SIZE)

enum service { REGISTRY, EDU, BLK, NIC, NETSVC, SERVICES };
static const char *const service_names[SERVICES] = { "registry", "edu", "nvme", "e1000e", "net" };
#define GUEST_IP NET_IPV4(10, 0, 2, 15)

struct hostile {
    uint64_t rng;
    wd_handle_t endpoint[SERVICES];
    struct edu_driver drv[SERVICES];        /* [EDU..NIC]: the drivers this test started */
    wd_handle_t device[SERVICES];
    wd_handle_t objects[6];                 /* what goes along as capabilities of the wrong type */
    uint64_t sent, replied, errors, timeouts, sessions_opened, sessions_refused, descriptors, completions;
    uint64_t scribbled, revoked;
};

static uint64_t rnd(struct hostile *h)
{
    return bt_random(&h->rng);
}

static uint64_t random_word(struct hostile *h)
{
    switch (rnd(h) % 6) {
    case 0: return 0;
    case 1: return rnd(h) % 16;
    case 2: return WD_PAGE_SIZE * (rnd(h) % 1024);
    case 3: return ~0ull - rnd(h) % 4;
    case 4: return 1ull << (rnd(h) % 64);
    default: return rnd(h);
    }
}

/* The labels each service knows (the rest of the time a random one). */
static uint32_t random_label(struct hostile *h, enum service s)
{
    static const uint32_t registry[] = { WD_REGISTRY_REGISTER, WD_REGISTRY_LOOKUP, WD_SUPERVISOR_STATUS,
                                         WD_SUPERVISOR_LIST, WD_SUPERVISOR_START, WD_SUPERVISOR_KILL };
    static const uint32_t edu[] = { EDU_OP_ID, EDU_OP_FACTORIAL, EDU_OP_TO_DEVICE, EDU_OP_FROM_DEVICE, EDU_OP_STATS,
                                    WD_SESSION_OPEN, WD_SESSION_CLOSE };
    static const uint32_t blk[] = { NVME_OP_INFO, NVME_OP_PARTITION, NVME_OP_STATS, NVME_OP_QUEUES, NVME_OP_RECOVERY,
                                    NVME_OP_INJECT, WD_SESSION_OPEN, WD_SESSION_CLOSE };
    static const uint32_t nic[] = { NET_OP_INFO, NET_OP_STATS, NET_OP_RX_POOL, WD_SESSION_OPEN, WD_SESSION_CLOSE };
    static const uint32_t net[] = { NETSVC_OP_INFO, NETSVC_OP_COUNTER, NETSVC_OP_PORTS, NETSVC_OP_DHCP, NETSVC_OP_ARP,
                                    WD_SESSION_OPEN, WD_SESSION_CLOSE };
    static const struct {
        const uint32_t *labels;
        unsigned count;
    } known[SERVICES] = { { registry, 6 }, { edu, 7 }, { blk, 8 }, { nic, 5 }, { net, 7 } };
    if (rnd(h) % 4 == 0)
        return (uint32_t)rnd(h);
    return known[s].labels[rnd(h) % known[s].count];
}

/* Random text in the words (a name nobody has: no service or module is ever named by it). */
static unsigned random_text(struct hostile *h, struct wd_msg *m)
{
    unsigned length = (unsigned)(rnd(h) % (WD_NAME_MAX + 8));
    char *text = (char *)&m->w[1];
    for (unsigned i = 0; i < length && i < 8 * (WD_MSG_WORDS - 1); i++)
        text[i] = rnd(h) % 8 ? (char)('q' + rnd(h) % 8) : (char)rnd(h);
    m->w[0] = rnd(h) % 8 ? length : random_word(h);
    return length / 8 + 2 > WD_MSG_WORDS ? WD_MSG_WORDS : length / 8 + 2;
}

/* Sends a message with label to endpoint: random words (or, with text, a
 * random name), up to four capabilities of the wrong type. Counts it,
 * deletes what is left of ours and what came back; the call's result
 * (the reply's words stay in *m). */
static long hostile_call(struct hostile *h, wd_handle_t endpoint, uint32_t label, bool text, struct wd_msg *m)
{
    *m = (struct wd_msg){ 0 };
    unsigned words = (unsigned)(rnd(h) % (WD_MSG_WORDS + 1));
    for (unsigned i = 0; i < WD_MSG_WORDS; i++)
        m->w[i] = random_word(h);
    if (text)
        words = random_text(h, m);
    unsigned caps = (unsigned)(rnd(h) % (WD_MSG_CAPS + 1));
    wd_handle_t sent[WD_MSG_CAPS] = { WD_NULL };
    for (unsigned i = 0; i < caps; i++) {
        wd_handle_t object = h->objects[rnd(h) % (sizeof h->objects / sizeof h->objects[0])];
        long copy = wd_cap_copy(object, WD_NULL, WD_RIGHT_READ | WD_RIGHT_GRANT | (rnd(h) % 2 ? WD_RIGHT_MAP : 0), 0);
        m->caps[i] = sent[i] = copy > 0 ? (wd_handle_t)copy : WD_NULL;
    }
    m->info = wd_msg_info(label, words, caps);
    long r = wd_call(endpoint, m, CALL_NS);
    h->sent++;
    if (r == 0)
        h->replied++;
    else if (r == -WD_E_TIMEOUT)
        h->timeouts++;
    else
        h->errors++;
    BT_CHECK(r <= 0 && r >= -(long)WD_E_COUNT);
    for (unsigned i = 0; i < caps; i++)
        if (sent[i])
            wd_cap_delete(sent[i]);             /* a copy the call did not move (STALE if it did) */
    for (unsigned i = 0; r == 0 && i < wd_msg_ncaps(m->info); i++)
        wd_cap_delete(m->caps[i]);              /* what came back */
    return r;
}

static void one_message(struct hostile *h, enum service s)
{
    struct wd_msg m;
    hostile_call(h, h->endpoint[s], random_label(h, s), s == REGISTRY && rnd(h) % 2, &m);
}

/* A session with random parameters; if it opens, garbage requests. */
static void one_session(struct hostile *h, enum service s)
{
    struct wd_client_session c;
    uint64_t args[3] = { random_word(h), random_word(h), random_word(h) };
    if (s == NIC && rnd(h) % 2)
        args[0] = NET_SESSION_RECEIVE;
    if (s == NETSVC && rnd(h) % 2)
        args[0] = 20000 + rnd(h) % 100;                 /* a port it may bind (the rest: random words) */
    static const uint64_t pages[] = { 1, 2, 8, 64 };    /* few sizes: a driver's address space settles */
    uint64_t region = WD_PAGE_SIZE * pages[rnd(h) % 4];
    uint32_t capacity = rnd(h) % 8 ? 1u << (rnd(h) % 7) : (uint32_t)rnd(h) % 100;
    uint64_t rights = rnd(h) % 4;                       /* none, READ, WRITE or both */
    long r = wd_client_open(&c, h->endpoint[s], bt_pool(), region, rights ? rights : WD_RIGHT_READ, capacity ? capacity : 1,
                            args, (unsigned)(rnd(h) % 4), CALL_NS);
    if (r != 0) {
        h->sessions_refused++;
        BT_CHECK(r < 0 && r >= -(long)WD_E_COUNT);
        return;
    }
    h->sessions_opened++;
    unsigned requests = (unsigned)(rnd(h) % (c.capacity + 1));
    for (unsigned i = 0; i < requests; i++) {
        struct wd_ring_desc d = {
            .offset = rnd(h) % 2 ? rnd(h) % region : random_word(h),
            .length = (uint32_t)(rnd(h) % 2 ? rnd(h) % 8192 : random_word(h)),
            .op = (uint16_t)(rnd(h) % 4 ? 1 + rnd(h) % 6 : rnd(h)),
            .arg = s == NETSVC && rnd(h) % 2 ? NETSOCK_ADDR(NET_IPV4(10, 0, 2, rnd(h) % 4), 20000 + rnd(h) % 8)
                   : rnd(h) % 2 ? rnd(h) % 4096 : random_word(h),
            .id = i,
        };
        if (wd_client_submit(&c, &d) == 0)
            h->descriptors++;
    }
    switch (rnd(h) % 5) {
    case 0:                                             /* garbage indices in the shared ring */
        c.requests.shared->head = (uint32_t)rnd(h);
        c.completions.shared->tail = (uint32_t)rnd(h);
        h->scribbled++;
        wd_notify_signal(c.service_signal, 1);
        break;
    case 1:
        wd_client_kick(&c);
        wd_client_revoke(&c);                           /* the region taken back mid-request */
        h->revoked++;
        break;
    default:
        wd_client_kick(&c);
        break;
    }
    struct wd_ring_desc done;
    for (unsigned i = 0; i < requests && wd_client_wait(&c, &done, 20 * BT_MS) == 0; i++)
        h->completions++;
    wd_client_close(&c, CALL_NS);
}

/* An honest request to every service: true when each one answers right. */
static bool all_serve(struct hostile *h, unsigned round)
{
    struct wd_msg m = { .info = wd_msg_info(EDU_OP_FACTORIAL, 1, 0), .w = { 5 } };
    bool edu = wd_call(h->endpoint[EDU], &m, EDU_CALL_TIMEOUT_NS) == 0 && m.w[0] == 120;
    uint64_t blocks = 0;
    bool blk = nvme_info(h->endpoint[BLK], &blocks) != 0 && blocks > 0;
    bool nic = nic_call(h->endpoint[NIC], NET_OP_INFO, &m) == 0 && m.w[2] == 1;
    m = (struct wd_msg){ .info = wd_msg_info(NETSVC_OP_INFO, 0, 0) };
    bool net = wd_call(h->endpoint[NETSVC], &m, CALL_NS) == 0 && m.w[0] == 0 && m.w[1] == GUEST_IP;
    wd_handle_t found = WD_NULL;
    char name[32];
    snprintf(name, sizeof name, "hostile-edu-%llu", (unsigned long long)wd_start_info->process_id);
    bool registry = wd_name_lookup(wd_start_info->registry, name, &found) == 0;
    if (found)
        wd_cap_delete(found);
    if (!(edu && blk && nic && net && registry))
        printf("# round %u: edu %s, nvme %s, e1000e %s, net %s, registry %s\n", round, edu ? "serves" : "FAILS",
               blk ? "serves" : "FAILS", nic ? "serves" : "FAILS", net ? "serves" : "FAILS",
               registry ? "serves" : "FAILS");
    return edu && blk && nic && net && registry;
}

static uint64_t pool_of(wd_handle_t process)
{
    struct wd_process_info info;
    return wd_process_info(process, &info) == 0 ? info.pool_used : ~0ull;
}

static bool start_all(struct hostile *h)
{
    static const struct {
        uint16_t vendor, device;
        const char *module, *args;
        uint64_t pool;                  /* the three fit the test's 24 MiB pool */
    } ids[NETSVC] = { [EDU] = { EDU_VENDOR, EDU_DEVICE, "edu", "no-selftest", 1ull << 20 },
                        [BLK] = { NVME_VENDOR, NVME_DEVICE, "nvme", "", 4ull << 20 },
                        [NIC] = { NET_VENDOR, NET_DEVICE, "e1000e", "", 8ull << 20 } };
    h->endpoint[REGISTRY] = wd_start_info->registry;
    for (unsigned s = EDU; s < NETSVC; s++) {
        struct wd_device_info info;
        if (!dma_test_device(ids[s].vendor, ids[s].device, ids[s].module, &info))
            return false;
        long d = BT_OK(wd_device_open(dma_device_root(), info.address));
        char name[32];
        snprintf(name, sizeof name, "hostile-%s-%llu", ids[s].module, (unsigned long long)wd_start_info->process_id);
        if (d < 0 || !driver_spawn_as(&h->drv[s], ids[s].module, (wd_handle_t)d, name, ids[s].args, ids[s].pool) ||
            !driver_wait_registered(&h->drv[s], name))
            return false;
        h->device[s] = (wd_handle_t)d;
        h->endpoint[s] = h->drv[s].client;
    }
    /* The network service over the e1000e, with the static address (no DHCP server on this wire). */
    char name[32], args[96];
    snprintf(name, sizeof name, "hostile-net-%llu", (unsigned long long)wd_start_info->process_id);
    snprintf(args, sizeof args, "eth=hostile-e1000e-%llu ip=10.0.2.15/24 gw=10.0.2.2",
             (unsigned long long)wd_start_info->process_id);
    if (!driver_spawn_as(&h->drv[NETSVC], "net", WD_NULL, name, args, 4ull << 20) ||
        !driver_wait_registered(&h->drv[NETSVC], name))
        return false;
    h->endpoint[NETSVC] = h->drv[NETSVC].client;
    for (unsigned i = 0; i < 100; i++) {            /* until it has its address */
        struct wd_msg m = { .info = wd_msg_info(NETSVC_OP_INFO, 0, 0) };
        if (wd_call(h->endpoint[NETSVC], &m, CALL_NS) == 0 && m.w[1] == GUEST_IP)
            return true;
        wd_thread_sleep(20 * BT_MS);
    }
    printf("# the network service got no address\n");
    return false;
}

void test_hostile_clients(void)
{
    struct wd_device_info info;
    if (!net_present(&info) || !nvme_present(&info))
        return;
    static struct hostile h;
    memset(&h, 0, sizeof h);
    uint64_t seed = bt_cmdline_number("hostileseed=", 0);
    h.rng = seed ? seed : ((uint64_t)wd_time_now() | 1);
    unsigned rounds = (unsigned)bt_cmdline_number("hostilerounds=", DEFAULT_ROUNDS);
    printf("# hostile clients: %u rounds, seed 0x%llx (replay: boot with hostileseed=0x%llx)\n", rounds,
           (unsigned long long)h.rng, (unsigned long long)h.rng);
    long objects[] = { wd_frame_create(bt_pool(), WD_PAGE_SIZE, 0), wd_endpoint_create(bt_pool()),
                       wd_notify_create(bt_pool()), wd_dmaspace_create(bt_pool()), wd_pool_create(bt_pool(), 65536),
                       wd_frame_create(bt_pool(), 2 * WD_PAGE_SIZE, 0) };
    for (unsigned i = 0; i < sizeof objects / sizeof objects[0]; i++) {
        BT_CHECK(objects[i] > 0);
        h.objects[i] = objects[i] > 0 ? (wd_handle_t)objects[i] : WD_NULL;
    }
    if (start_all(&h) && all_serve(&h, 0)) {
        uint64_t pools[SERVICES] = { 0 };
        unsigned round, warm = rounds > WARM_ROUNDS ? WARM_ROUNDS : 0;
        for (round = 1; round <= rounds; round++) {
            if (round == warm + 1)
                for (unsigned s = EDU; s < SERVICES; s++)
                    pools[s] = pool_of(h.drv[s].process);
            for (unsigned i = 0; i < MESSAGES_PER_ROUND; i++)
                one_message(&h, (enum service)(rnd(&h) % SERVICES));
            for (unsigned s = EDU; s < SERVICES; s++)
                one_session(&h, (enum service)s);
            if (!all_serve(&h, round))
                break;
        }
        BT_CHECK_EQ(round, rounds + 1);
        for (unsigned s = EDU; s < SERVICES; s++) {
            struct wd_process_info p;
            BT_CHECK(wd_process_info(h.drv[s].process, &p) == 0 && !p.dead);     /* the same process throughout */
            uint64_t now = pool_of(h.drv[s].process);
            if (now > pools[s] + HIGH_WATER_BYTES)
                printf("# %s's pool: %llu bytes charged, %llu after the warm-up rounds\n", service_names[s],
                       (unsigned long long)now, (unsigned long long)pools[s]);
            BT_CHECK(now <= pools[s] + HIGH_WATER_BYTES);
        }
        printf("# hostile clients: %llu messages (%llu answered, %llu refused, %llu timed out), %llu sessions opened "
               "and %llu refused, %llu garbage requests (%llu completed), %llu rings scribbled, %llu regions "
               "revoked mid-request; every service served after every round\n",
               (unsigned long long)h.sent, (unsigned long long)h.replied, (unsigned long long)h.errors,
               (unsigned long long)h.timeouts, (unsigned long long)h.sessions_opened,
               (unsigned long long)h.sessions_refused, (unsigned long long)h.descriptors,
               (unsigned long long)h.completions, (unsigned long long)h.scribbled, (unsigned long long)h.revoked);
    }
    for (unsigned s = SERVICES - 1; s >= EDU; s--) {        /* the network service before its driver */
        if (h.drv[s].process)
            wd_process_kill(h.drv[s].process, 0);
        if (h.device[s])
            wd_cap_delete(h.device[s]);
    }
    for (unsigned i = 0; i < sizeof h.objects / sizeof h.objects[0]; i++)
        wd_cap_delete(h.objects[i]);
}

#define DEVMGR_POOL (40ull << 20)           /* its drivers' and services' sub-pools: 30 MiB */
#define DEVMGR_MESSAGES 400u
#define DEVMGR_DRIVERS 3u                   /* services registered once the drivers are up, at least */

/* What devmgr hands init's supervisor (servers/devmgr/drivers.c, services.c). */
static const char *const devmgr_services[] = { "echo", "net", "eth0", "blk0", "edu" };

/* devmgr with what init gives it in the normal boot: the device root, the
 * boot modules, a pool for everything it starts. */
static bool spawn_devmgr(struct edu_driver *d)
{
    struct wd_spawn s = { .args = "devmgr", .cap_count = 1, .caps = { dma_device_root() }, .pass_modules = true };
    return driver_spawn_module(d, "devmgr", &s, DEVMGR_POOL);
}

/* devmgr as the normal boot starts it (the device root in caps[0]), then
 * hostile messages to its endpoint: every one gets an error
 * (NOT_SUPPORTED: it serves no request yet), devmgr stays up and keeps
 * nothing that came with them (the runner's leak check: this test's pool
 * would stay charged), and the services it handed to init's supervisor
 * are there throughout. Needs testpool=64 (the soak configuration). */
void test_hostile_devmgr(void)
{
    struct wd_pool_info budget;
    BT_OK(wd_pool_info(bt_pool(), &budget));
    if (budget.budget < DEVMGR_POOL + (8ull << 20) || !dma_device_root()) {
        BT_SKIP("needs the device root and testpool=64 (the soak configuration)");
        return;
    }
    static struct hostile h;
    memset(&h, 0, sizeof h);
    uint64_t seed = bt_cmdline_number("hostileseed=", 0);
    h.rng = seed ? seed : ((uint64_t)wd_time_now() | 1);
    printf("# hostile devmgr: %u messages, seed 0x%llx (replay: boot with hostileseed=0x%llx)\n", DEVMGR_MESSAGES,
           (unsigned long long)h.rng, (unsigned long long)h.rng);
    long objects[] = { wd_frame_create(bt_pool(), WD_PAGE_SIZE, 0), wd_endpoint_create(bt_pool()),
                       wd_notify_create(bt_pool()), wd_dmaspace_create(bt_pool()), wd_pool_create(bt_pool(), 65536),
                       wd_frame_create(bt_pool(), 2 * WD_PAGE_SIZE, 0) };
    for (unsigned i = 0; i < sizeof objects / sizeof objects[0]; i++)
        h.objects[i] = objects[i] > 0 ? (wd_handle_t)objects[i] : WD_NULL;
    struct edu_driver devmgr = { 0 };
    bool up = spawn_devmgr(&devmgr);
    wd_handle_t endpoint = WD_NULL;
    for (unsigned i = 0; up && i < 2000 && wd_name_lookup(wd_start_info->registry, "devmgr", &endpoint) != 0; i++)
        wd_thread_sleep(10 * BT_MS);
    BT_CHECK(endpoint != WD_NULL);
    unsigned not_supported = 0, other = 0;
    for (unsigned i = 0; endpoint && i < DEVMGR_MESSAGES && h.timeouts <= 5; i++) {   /* unanswered: it is broken */
        static const uint32_t known[] = { WD_SESSION_OPEN, WD_SESSION_CLOSE, WD_REGISTRY_LOOKUP, 1, 2, 3 };
        uint32_t label = rnd(&h) % 2 ? known[rnd(&h) % 6] : (uint32_t)rnd(&h) % 0x10000;
        struct wd_msg m;
        long r = hostile_call(&h, endpoint, label, rnd(&h) % 2, &m);
        if (r == 0 && (long)m.w[0] == -WD_E_NOT_SUPPORTED)
            not_supported++;
        else if (r == 0)
            other++;                                /* an answer that is not an error */
    }
    BT_CHECK_EQ(other, 0);
    BT_CHECK_EQ(not_supported, h.replied);
    BT_CHECK_EQ(h.timeouts, 0);                     /* every request answered */
    struct wd_process_info p;
    BT_CHECK(wd_process_info(devmgr.process, &p) == 0 && !p.dead);  /* the same devmgr throughout */
    unsigned found = 0;
    for (unsigned wait = 0; wait < 1000 && found < DEVMGR_DRIVERS; wait++) {    /* the drivers come up */
        found = 0;
        for (unsigned i = 0; i < sizeof devmgr_services / sizeof devmgr_services[0]; i++) {
            wd_handle_t service = WD_NULL;
            if (wd_name_lookup(wd_start_info->registry, devmgr_services[i], &service) == 0)
                found++;
            if (service)
                wd_cap_delete(service);
        }
        if (found < DEVMGR_DRIVERS)
            wd_thread_sleep(10 * BT_MS);
    }
    printf("# hostile devmgr: %llu messages, %u answered NOT_SUPPORTED, %llu refused by the kernel, %llu timed out; "
           "%u of its %u services registered\n", (unsigned long long)h.sent, not_supported,
           (unsigned long long)h.errors, (unsigned long long)h.timeouts, found,
           (unsigned)(sizeof devmgr_services / sizeof devmgr_services[0]));
    BT_CHECK(found >= DEVMGR_DRIVERS);              /* edu, blk0 and eth0 (net and echo wait for DHCP) */
    for (unsigned i = 0; i < sizeof devmgr_services / sizeof devmgr_services[0]; i++)
        wd_supervise_stop(wd_start_info->registry, devmgr_services[i]);     /* NOT_FOUND for one never started */
    if (endpoint)
        wd_cap_delete(endpoint);
    if (up) {
        wd_process_kill(devmgr.process, 0);
        struct wd_msg m;
        BT_OK(bt_wait_kernel_message(devmgr.fault_ep, WD_LABEL_EXIT, EDU_DRIVER_BADGE, &m, TIMEOUT));
        wd_cap_delete(devmgr.process);
        wd_cap_delete(devmgr.fault_ep);
    }
    for (unsigned i = 0; i < sizeof h.objects / sizeof h.objects[0]; i++)
        wd_cap_delete(h.objects[i]);
}
