// SPDX-License-Identifier: GPL-2.0
/*
 * mint_ivshmem: the guest side of a mint fabric.  Binds QEMU's
 * ivshmem-doorbell device (1af4:1110), whose BAR2 is the fabric file and
 * whose BAR0 doorbell rings other ivshmem peers, enables its MSI-X
 * vectors, and offers the fabric to user space (/dev/mint_ivshmem, see
 * include/mint/guest_abi.h) and to the other guest drivers (see
 * mint_ivshmem.h).  Fabric contents are peers' data: this driver hands
 * them out and never parses them; it writes only its own node's doorbell
 * words and wake queue, at offsets computed from its own id.
 */
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "mint_ivshmem.h"

/* BAR0 registers (QEMU docs/specs/ivshmem-spec.rst). */
#define REG_IVPOSITION 8
#define REG_DOORBELL 12

#define FABRIC_VEC_VNI 2u /* MINT_VEC_VNI: see mint_ivshmem.h */
#define FABRIC_VEC_NIC 3u /* MINT_VEC_NIC */
#define FABRIC_VECTORS 256u
#define FABRIC_NODES 64u
#define BELL_AWAKE 0u
#define BELL_FUTEX 1u

struct mint_vec {
	struct mint_ivshmem *iv;
	u32 index;
	mint_ivshmem_handler_t fn; /* NULL: the vector is user space's */
	void *arg;
	atomic64_t fired;          /* interrupts ever taken for user space */
};

struct mint_ivshmem {
	struct pci_dev *pdev;
	void __iomem *regs;
	void *shm;
	phys_addr_t shm_phys;
	size_t shm_size;
	u32 id;
	u32 nvec;
	atomic_t users;            /* mint_ivshmem_get references */
	struct mutex claim_lock;
	wait_queue_head_t wq;
	struct mint_vec vec[MINT_IVSHMEM_NVEC];
	struct miscdevice misc;
};

/* One device per guest: the fabric. */
static DEFINE_MUTEX(dev_lock);
static struct mint_ivshmem *the_dev;

/* An open file: what it has seen of each vector. */
struct mint_file {
	struct mint_ivshmem *iv;
	s64 seen[MINT_IVSHMEM_NVEC];
};

static void *own_word(struct mint_ivshmem *iv, u32 off)
{
	return (u8 *)iv->shm + MINT_ABI_NODE_TABLE + (size_t)iv->id * MINT_ABI_NODE_SIZE + off;
}

static irqreturn_t vec_irq(int irq, void *data)
{
	struct mint_vec *v = data;
	mint_ivshmem_handler_t fn = READ_ONCE(v->fn);

	if (fn)
		return fn(v->iv, READ_ONCE(v->arg));
	atomic64_inc(&v->fired);
	wake_up_interruptible(&v->iv->wq);
	return IRQ_HANDLED;
}

/* ---- the in-kernel API ---- */

struct mint_ivshmem *mint_ivshmem_get(void)
{
	struct mint_ivshmem *iv;

	mutex_lock(&dev_lock);
	iv = the_dev;
	if (iv)
		atomic_inc(&iv->users);
	mutex_unlock(&dev_lock);
	return iv ? iv : ERR_PTR(-ENODEV);
}
EXPORT_SYMBOL_GPL(mint_ivshmem_get);

void mint_ivshmem_put(struct mint_ivshmem *iv)
{
	atomic_dec(&iv->users);
}
EXPORT_SYMBOL_GPL(mint_ivshmem_put);

void *mint_ivshmem_base(struct mint_ivshmem *iv) { return iv->shm; }
EXPORT_SYMBOL_GPL(mint_ivshmem_base);
size_t mint_ivshmem_size(struct mint_ivshmem *iv) { return iv->shm_size; }
EXPORT_SYMBOL_GPL(mint_ivshmem_size);
u32 mint_ivshmem_id(struct mint_ivshmem *iv) { return iv->id; }
EXPORT_SYMBOL_GPL(mint_ivshmem_id);

int mint_ivshmem_ring(struct mint_ivshmem *iv, u32 peer, u32 vector)
{
	if (peer > 0xffff || vector >= MINT_IVSHMEM_NVEC)
		return -EINVAL;
	writel((peer << 16) | vector, iv->regs + REG_DOORBELL);
	return 0;
}
EXPORT_SYMBOL_GPL(mint_ivshmem_ring);

static u32 fabric_vector_of(u32 msix)
{
	return msix == MINT_IVSHMEM_MSIX_VNI ? FABRIC_VEC_VNI : FABRIC_VEC_NIC;
}

int mint_ivshmem_claim(struct mint_ivshmem *iv, u32 vector, mint_ivshmem_handler_t fn, void *arg)
{
	struct mint_vec *v;
	int rc = 0;

	if ((vector != MINT_IVSHMEM_MSIX_VNI && vector != MINT_IVSHMEM_MSIX_NIC) || !fn)
		return -EINVAL;
	if (vector >= iv->nvec)
		return -ENXIO;
	v = &iv->vec[vector];
	mutex_lock(&iv->claim_lock);
	if (v->fn) {
		rc = -EBUSY;
	} else {
		WRITE_ONCE(v->arg, arg);
		/* the handler is published after its argument */
		smp_store_release(&v->fn, fn);
		/* atomic: senders read the mask with each raise */
		set_bit(fabric_vector_of(vector), own_word(iv, MINT_ABI_NODE_KVEC_MASK));
	}
	mutex_unlock(&iv->claim_lock);
	return rc;
}
EXPORT_SYMBOL_GPL(mint_ivshmem_claim);

void mint_ivshmem_release(struct mint_ivshmem *iv, u32 vector)
{
	if ((vector != MINT_IVSHMEM_MSIX_VNI && vector != MINT_IVSHMEM_MSIX_NIC) ||
	    vector >= iv->nvec)
		return;
	mutex_lock(&iv->claim_lock);
	clear_bit(fabric_vector_of(vector), own_word(iv, MINT_ABI_NODE_KVEC_MASK));
	WRITE_ONCE(iv->vec[vector].fn, NULL);
	mutex_unlock(&iv->claim_lock);
	synchronize_irq(pci_irq_vector(iv->pdev, vector));
}
EXPORT_SYMBOL_GPL(mint_ivshmem_release);

bool mint_ivshmem_kvec_take(struct mint_ivshmem *iv, u32 fabric_vector)
{
	if (fabric_vector != FABRIC_VEC_VNI && fabric_vector != FABRIC_VEC_NIC)
		return false;
	/* fully ordered: the driver's ring reads come after the take, so a
	 * raise published later sets the bit again and interrupts again. */
	return test_and_clear_bit(fabric_vector, own_word(iv, MINT_ABI_NODE_KPENDING));
}
EXPORT_SYMBOL_GPL(mint_ivshmem_kvec_take);

/* One slot of the wake queue: a bounded MPMC queue (Vyukov) whose slot
 * sequence says whose turn it is; the server is the only consumer. */
struct wake_slot {
	atomic64_t seq;
	u64 off;
};

int mint_ivshmem_wake(struct mint_ivshmem *iv, u64 off)
{
	atomic64_t *tail = own_word(iv, MINT_ABI_GUEST_WAKE_TAIL);
	struct wake_slot *q = own_word(iv, MINT_ABI_GUEST_WAKE_SLOTS);
	unsigned int tries;

	if (off & 3 || off > iv->shm_size - 4)
		return -EINVAL;
	/* Bounded: a queue the server stopped draining (or that a bad
	 * server left inconsistent) costs a counted drop, never a hang. */
	for (tries = 0; tries < 64; tries++) {
		s64 pos = atomic64_read(tail);
		/* unsigned: a forged negative tail must still index the queue */
		struct wake_slot *s = &q[(u64)pos % MINT_ABI_GUEST_WAKE_NSLOTS];
		/* acquire: pairs with the server's release store of seq when
		 * it freed the slot */
		s64 seq = atomic64_read_acquire(&s->seq);

		if (seq == pos) {
			if (atomic64_cmpxchg(tail, pos, pos + 1) != pos)
				continue;
			WRITE_ONCE(s->off, off);
			/* release: the offset before the seq that hands it to
			 * the server (its acquire load of seq) */
			atomic64_set_release(&s->seq, pos + 1);
			return mint_ivshmem_ring(iv, MINT_IVSHMEM_SERVER_PEER, 0);
		}
		if (seq < pos)
			break;
	}
	atomic64_inc(own_word(iv, MINT_ABI_GUEST_WAKE_FULL));
	mint_ivshmem_ring(iv, MINT_IVSHMEM_SERVER_PEER, 0);
	return -ENOSPC;
}
EXPORT_SYMBOL_GPL(mint_ivshmem_wake);

static u64 node_off(u32 node, u32 field)
{
	return MINT_ABI_NODE_TABLE + (u64)node * MINT_ABI_NODE_SIZE + field;
}

/* Kernel-owned vector: raise it on the 0->1 edge only (see the header). */
static int raise_kernel_vec(struct mint_ivshmem *iv, u32 node, u32 vector)
{
	u8 *e = (u8 *)iv->shm + node_off(node, 0);

	if (test_and_set_bit(vector, (unsigned long *)(e + MINT_ABI_NODE_KPENDING)))
		return 0;
	atomic_inc((atomic_t *)(e + MINT_ABI_NODE_KSEQ));
	return mint_ivshmem_wake(iv, node_off(node, MINT_ABI_NODE_KSEQ));
}

int mint_ivshmem_ipi(struct mint_ivshmem *iv, u32 node, u32 vector)
{
	u8 *e;
	u64 kmask;
	atomic_t *sleeping, *seq;

	if (node >= FABRIC_NODES || vector >= FABRIC_VECTORS ||
	    node_off(node + 1, 0) > iv->shm_size)
		return -EINVAL;
	e = (u8 *)iv->shm + node_off(node, 0);
	kmask = READ_ONCE(*(u64 *)(e + MINT_ABI_NODE_KVEC_MASK));
	if (vector < 64 && (kmask >> vector) & 1)
		return raise_kernel_vec(iv, node, vector);
	/* fully ordered RMW: the caller's data before the pending bit (pairs
	 * with the dispatcher's acquire exchange), and the store half of the
	 * Dekker pair with a dispatcher announcing sleep (libmint bell.c) */
	set_bit(vector % 64, (unsigned long *)(e + MINT_ABI_NODE_PENDING + 8 * (vector / 64)));
	smp_mb__after_atomic();
	sleeping = (atomic_t *)(e + MINT_ABI_NODE_BELL);
	seq = (atomic_t *)(e + MINT_ABI_NODE_BELL + 4);
	if (atomic_read(sleeping) == BELL_AWAKE)
		return 0;
	/* only the waker that clears the announcement pays for the wake */
	if (atomic_xchg(sleeping, BELL_AWAKE) != BELL_FUTEX)
		return 0;
	atomic_inc(seq);
	return mint_ivshmem_wake(iv, node_off(node, MINT_ABI_NODE_BELL + 4));
}
EXPORT_SYMBOL_GPL(mint_ivshmem_ipi);

/* ---- the character device ---- */

static int mint_open(struct inode *inode, struct file *file)
{
	struct mint_ivshmem *iv = container_of(file->private_data, struct mint_ivshmem, misc);
	struct mint_file *mf = kzalloc(sizeof(*mf), GFP_KERNEL);
	u32 i;

	if (!mf)
		return -ENOMEM;
	mf->iv = iv;
	for (i = 0; i < MINT_IVSHMEM_NVEC; i++)
		mf->seen[i] = atomic64_read(&iv->vec[i].fired);
	file->private_data = mf;
	return 0;
}

static int mint_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

/* Vectors fired since MF last looked (claimed vectors never count up). */
static u64 fired_mask(struct mint_file *mf)
{
	u64 mask = 0;
	u32 i;

	for (i = 0; i < MINT_IVSHMEM_NVEC; i++)
		if (atomic64_read(&mf->iv->vec[i].fired) != mf->seen[i])
			mask |= 1ull << i;
	return mask;
}

static ssize_t mint_read(struct file *file, char __user *buf, size_t len, loff_t *pos)
{
	struct mint_file *mf = file->private_data;
	u64 mask;
	u32 i;
	int rc;

	if (len < sizeof(mask))
		return -EINVAL;
	if (!fired_mask(mf)) {
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		rc = wait_event_interruptible(mf->iv->wq, fired_mask(mf) != 0);
		if (rc)
			return rc;
	}
	mask = 0;
	for (i = 0; i < MINT_IVSHMEM_NVEC; i++) {
		s64 now = atomic64_read(&mf->iv->vec[i].fired);

		if (now != mf->seen[i])
			mask |= 1ull << i;
		mf->seen[i] = now;
	}
	return copy_to_user(buf, &mask, sizeof(mask)) ? -EFAULT : sizeof(mask);
}

static __poll_t mint_poll(struct file *file, poll_table *wait)
{
	struct mint_file *mf = file->private_data;

	poll_wait(file, &mf->iv->wq, wait);
	return fired_mask(mf) ? EPOLLIN | EPOLLRDNORM : 0;
}

static int mint_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct mint_ivshmem *iv = ((struct mint_file *)file->private_data)->iv;
	unsigned long len = vma->vm_end - vma->vm_start;

	if (vma->vm_pgoff != 0 || len > PAGE_ALIGN(iv->shm_size))
		return -EINVAL;
	/* BAR2 is host RAM: mapped cacheable, as the kernel maps it */
	return remap_pfn_range(vma, vma->vm_start, iv->shm_phys >> PAGE_SHIFT, len,
			       vma->vm_page_prot);
}

static long ioctl_info(struct mint_ivshmem *iv, void __user *arg)
{
	struct mint_ivshmem_info info = {
		.size = iv->shm_size, .id = iv->id, .vectors = iv->nvec, .abi = MINT_IVSHMEM_ABI,
	};

	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long ioctl_ring(struct mint_ivshmem *iv, void __user *arg)
{
	struct mint_ivshmem_ring r;

	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	return mint_ivshmem_ring(iv, r.peer, r.vector);
}

static long mint_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct mint_ivshmem *iv = ((struct mint_file *)file->private_data)->iv;

	switch (cmd) {
	case MINT_IVSHMEM_INFO:
		return ioctl_info(iv, (void __user *)arg);
	case MINT_IVSHMEM_RING:
		return ioctl_ring(iv, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations mint_fops = {
	.owner = THIS_MODULE,
	.open = mint_open,
	.release = mint_release,
	.read = mint_read,
	.poll = mint_poll,
	.mmap = mint_mmap,
	.unlocked_ioctl = mint_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/* ---- the PCI device ---- */

static int setup_vectors(struct mint_ivshmem *iv)
{
	struct pci_dev *pdev = iv->pdev;
	int n, i, rc;

	/* MSI-X messages are memory writes by the device: without bus
	 * mastering none arrives. */
	pci_set_master(pdev);
	n = pci_alloc_irq_vectors(pdev, 1, MINT_IVSHMEM_NVEC, PCI_IRQ_MSIX);
	if (n < 0)
		return n;
	iv->nvec = n;
	for (i = 0; i < n; i++) {
		iv->vec[i].iv = iv;
		iv->vec[i].index = i;
		rc = request_irq(pci_irq_vector(pdev, i), vec_irq, 0, "mint_ivshmem", &iv->vec[i]);
		if (rc) {
			while (--i >= 0)
				free_irq(pci_irq_vector(pdev, i), &iv->vec[i]);
			pci_free_irq_vectors(pdev);
			return rc;
		}
	}
	return 0;
}

static void free_vectors(struct mint_ivshmem *iv)
{
	u32 i;

	for (i = 0; i < iv->nvec; i++)
		free_irq(pci_irq_vector(iv->pdev, i), &iv->vec[i]);
	pci_free_irq_vectors(iv->pdev);
}

static int map_bars(struct mint_ivshmem *iv)
{
	struct pci_dev *pdev = iv->pdev;

	/* No pci_request_regions: user space reaches BAR2 through us, and
	 * IO_STRICT_DEVMEM would lock sysfs resource files out for debugging. */
	iv->regs = pcim_iomap(pdev, 0, 0);
	if (!iv->regs)
		return -ENOMEM;
	iv->shm_phys = pci_resource_start(pdev, 2);
	iv->shm_size = pci_resource_len(pdev, 2);
	if (iv->shm_size < MINT_ABI_NODE_TABLE + MINT_ABI_NODE_SIZE)
		return -ENODEV;
	iv->shm = devm_memremap(&pdev->dev, iv->shm_phys, iv->shm_size, MEMREMAP_WB);
	if (IS_ERR(iv->shm))
		return PTR_ERR(iv->shm);
	iv->id = readl(iv->regs + REG_IVPOSITION);
	/* the node table holds 64 nodes, each a page inside BAR2 */
	if (iv->id >= FABRIC_NODES ||
	    MINT_ABI_NODE_TABLE + (u64)(iv->id + 1) * MINT_ABI_NODE_SIZE > iv->shm_size)
		return -ERANGE;
	return 0;
}

static int mint_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct mint_ivshmem *iv;
	int rc;

	iv = devm_kzalloc(&pdev->dev, sizeof(*iv), GFP_KERNEL);
	if (!iv)
		return -ENOMEM;
	iv->pdev = pdev;
	mutex_init(&iv->claim_lock);
	init_waitqueue_head(&iv->wq);
	/* With direct kernel boot nobody enabled the device (command = 0). */
	rc = pcim_enable_device(pdev);
	if (!rc)
		rc = map_bars(iv);
	if (!rc)
		rc = setup_vectors(iv);
	if (rc)
		return rc;
	iv->misc.minor = MISC_DYNAMIC_MINOR;
	iv->misc.name = "mint_ivshmem";
	iv->misc.fops = &mint_fops;
	mutex_lock(&dev_lock);
	rc = the_dev ? -EBUSY : misc_register(&iv->misc);
	if (!rc)
		the_dev = iv;
	mutex_unlock(&dev_lock);
	if (rc) {
		free_vectors(iv);
		return rc;
	}
	pci_set_drvdata(pdev, iv);
	dev_info(&pdev->dev, "mint fabric node %u: %zu bytes, %u MSI-X vectors\n", iv->id,
		 iv->shm_size, iv->nvec);
	return 0;
}

static void mint_remove(struct pci_dev *pdev)
{
	struct mint_ivshmem *iv = pci_get_drvdata(pdev);

	mutex_lock(&dev_lock);
	the_dev = NULL;
	mutex_unlock(&dev_lock);
	/* Users hold module references to us, so only a sysfs unbind gets
	 * here with users left: say so, their next calls would fault. */
	WARN_ON(atomic_read(&iv->users) != 0);
	misc_deregister(&iv->misc);
	free_vectors(iv);
}

static const struct pci_device_id mint_ids[] = {
	{ PCI_DEVICE(0x1af4, 0x1110) },
	{ }
};
MODULE_DEVICE_TABLE(pci, mint_ids);

static struct pci_driver mint_driver = {
	.name = "mint_ivshmem",
	.id_table = mint_ids,
	.probe = mint_probe,
	.remove = mint_remove,
};
module_pci_driver(mint_driver);

MODULE_DESCRIPTION("mint fabric over QEMU ivshmem-doorbell: mmap, MSI-X doorbells");
MODULE_LICENSE("GPL");
